namespace Sluice.Tests.Decisions;

/// <summary>The public way for a store outside this library to report statuses and build its decision.</summary>
public sealed class RateLimitDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private static readonly Rate PerMinute = Rate.Parse("60/min");
    private static readonly Rate PerSecond = Rate.Parse("2/s");

    [Fact]
    public void FromStatuses_WithNoDenyingRate_IsAllowed_EvenWithAShadowDenial()
    {
        RateStatus[] statuses =
        [
            RateStatus.Allowed(0, 0, PerMinute, 59, Now.AddMinutes(1)),
            RateStatus.Denied(1, 0, PerSecond, 0, Now.AddSeconds(1), TimeSpan.FromSeconds(1), shadow: true),
        ];

        var decision = RateLimitDecision.FromStatuses(statuses, Now, leaseId: 42);

        Assert.True(decision.IsAllowed);
        Assert.Equal(TimeSpan.Zero, decision.RetryAfter);
        Assert.Equal(-1, decision.DeniedStatusIndex);
        Assert.Equal(2, decision.StatusCount);
        Assert.Equal(42, decision.LeaseId);
        Assert.Equal(Now, decision.DecidedAt);
        Assert.Equal(RateOutcome.ShadowDenied, statuses[1].Outcome);
    }

    [Fact]
    public void FromStatuses_WhenDenied_WaitsForTheLongestDenyingRate()
    {
        RateStatus[] statuses =
        [
            RateStatus.Denied(0, 0, PerSecond, 0, Now.AddSeconds(1), TimeSpan.FromMilliseconds(400)),
            RateStatus.Allowed(1, 0, PerMinute, 10, Now.AddMinutes(1)),
            RateStatus.Denied(2, 0, PerMinute, 0, Now.AddSeconds(30), TimeSpan.FromSeconds(30)),
        ];

        var decision = RateLimitDecision.FromStatuses(statuses);

        Assert.False(decision.IsAllowed);
        Assert.Equal(TimeSpan.FromSeconds(30), decision.RetryAfter);
        Assert.Equal(2, decision.DeniedStatusIndex);
        Assert.Null(decision.DecidedAt);
    }

    [Fact]
    public void FromStatuses_ACostAboveALimit_NeverPasses_AndAConcurrencyDenialHasNoKnownWait()
    {
        var never = RateLimitDecision.FromStatuses([
            RateStatus.Denied(0, 0, PerSecond, 2, Now.AddSeconds(1), TimeSpan.FromSeconds(1)),
            RateStatus.Denied(1, 0, PerSecond, 2, Now.AddSeconds(1), Timeout.InfiniteTimeSpan),
        ]);
        var unknown = RateLimitDecision.FromStatuses([RateStatus.Denied(0, 0, Rate.Parse("1/s"), 0, Now, retryAfter: null)]);

        Assert.True(never.CostExceedsLimit);
        Assert.Equal(1, never.DeniedStatusIndex);
        Assert.False(unknown.IsAllowed);
        Assert.False(unknown.HasRetryAfter);
        Assert.False(unknown.CostExceedsLimit);
    }

    [Fact]
    public void Statuses_RoundTimesUp_ToTheNextMicrosecond_SoThatNoClientIsToldToComeBackEarly()
    {
        var status = RateStatus.Denied(0, 0, PerSecond, 0, Now.AddTicks(1), TimeSpan.FromTicks(1));

        Assert.Equal(Now.AddTicks(10), status.ResetAt);
        Assert.Equal(TimeSpan.FromTicks(10), status.RetryAfter);
    }

    [Fact]
    public void BadArguments_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RateStatus.Allowed(-1, 0, PerSecond, 1, Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => RateStatus.Allowed(0, -1, PerSecond, 1, Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => RateStatus.Allowed(0, 0, PerSecond, -1, Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => RateStatus.Denied(0, 0, PerSecond, 0, Now, TimeSpan.FromSeconds(-2)));
        var denied = RateStatus.Denied(0, 0, PerSecond, 0, Now, TimeSpan.FromSeconds(1));
        var error = Assert.Throws<ArgumentException>(() => RateLimitDecision.FromStatuses([denied], leaseId: 7));
        Assert.Contains("lease id must be 0", error.Message, StringComparison.Ordinal);
    }
}
