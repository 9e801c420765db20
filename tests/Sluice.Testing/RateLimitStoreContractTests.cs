using Xunit;

namespace Sluice.Testing;

/// <summary>
/// The behaviour every <see cref="RateLimitStore"/> must have. Each store's test class derives from this one and
/// supplies the store; every test starts on a fresh store at <see cref="ManualTimeProvider.DefaultStart"/>.
/// </summary>
public abstract class RateLimitStoreContractTests
{
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    protected abstract Task<StoreHarness> CreateAsync();

    private static Rate R(string text) => Rate.Parse(text);

    private static async Task<int> CountAdmitted(StoreHarness h, int attempts, params LayerKey[] layers)
    {
        var admitted = 0;
        for (var i = 0; i < attempts; i++)
        {
            if ((await h.Acquire(layers)).IsAllowed)
            {
                admitted++;
            }
        }

        return admitted;
    }

    // ---- Fixed window --------------------------------------------------------------------------

    [Fact]
    public async Task FixedWindow_AllowsUpToTheLimit_ThenDenies()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("api-key", R("3/min"));

        Assert.Equal(3, await CountAdmitted(h, 5, layer.For("k")));
    }

    [Fact]
    public async Task ADecision_IsDatedAtTheStoresClock_SoTimeToResetNeedsNoOtherClock()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("api-key", R("1/min"));
        h.Clock.Advance(TimeSpan.FromSeconds(42.5));

        var allowed = await h.Acquire(layer.For("k"));
        var denied = await h.Acquire(layer.For("k"));
        var none = await h.Acquire();

        Assert.Equal(h.Clock.GetUtcNow(), allowed.Decision.DecidedAt);
        Assert.Equal(h.Clock.GetUtcNow(), denied.Decision.DecidedAt);
        Assert.Equal(TimeSpan.FromSeconds(17.5), denied.Statuses[0].ResetAt - denied.Decision.DecidedAt!.Value);
        Assert.Null(none.Decision.DecidedAt);
    }

    [Fact]
    public async Task FixedWindow_ResetsAtTheEndOfTheClockAlignedWindow()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("api-key", R("2/min"));
        h.Clock.Advance(TimeSpan.FromSeconds(50));

        await h.Acquire(layer.For("k"));
        var second = await h.Acquire(layer.For("k"));
        var denied = await h.Acquire(layer.For("k"));
        h.Clock.Advance(TimeSpan.FromSeconds(10));
        var nextWindow = await h.Acquire(layer.For("k"));

        Assert.True(second.IsAllowed);
        Assert.Equal(ManualTimeProvider.DefaultStart.AddMinutes(1), second.Statuses[0].ResetAt);
        Assert.False(denied.IsAllowed);
        Assert.Equal(TimeSpan.FromSeconds(10), denied.RetryAfter);
        Assert.True(nextWindow.IsAllowed);
        Assert.Equal(1, nextWindow.Statuses[0].Remaining);
        Assert.Equal(ManualTimeProvider.DefaultStart.AddMinutes(2), nextWindow.Statuses[0].ResetAt);
    }

    [Fact]
    public async Task FixedWindow_RetryAfter_WaitingExactlyThatLongSucceeds_OneTickLessFails()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("auth", R("3/15min"));
        h.Clock.Advance(TimeSpan.FromSeconds(123.456789));
        await CountAdmitted(h, 3, layer.For("ip"));

        var denied = await h.Acquire(layer.For("ip"));
        h.Clock.Advance(denied.RetryAfter - OneTick);
        var early = await h.Acquire(layer.For("ip"));
        h.Clock.Advance(OneTick);
        var onTime = await h.Acquire(layer.For("ip"));

        Assert.False(early.IsAllowed);
        Assert.True(onTime.IsAllowed);
    }

    // ---- Sliding window ------------------------------------------------------------------------

    [Fact]
    public async Task SlidingWindow_DeniesTheDoubleBurstAtAWindowEdge()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.SlidingWindow("writes", R("10/min"));
        h.Clock.Advance(TimeSpan.FromSeconds(59));
        var before = await CountAdmitted(h, 10, layer.For("d"));

        h.Clock.Advance(TimeSpan.FromSeconds(2));
        var after = await CountAdmitted(h, 10, layer.For("d"));

        Assert.Equal(10, before);
        Assert.Equal(0, after);
    }

    [Fact]
    public async Task SlidingWindow_NeverAdmitsMoreThanTheLimitInAnyPeriod()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.SlidingWindow("writes", R("5/s"));
        var random = new Random(42);
        var admittedAt = new List<DateTimeOffset>();

        for (var i = 0; i < 400; i++)
        {
            h.Clock.Advance(TimeSpan.FromMilliseconds(random.Next(0, 120)));
            if ((await h.Acquire(layer.For("d"))).IsAllowed)
            {
                admittedAt.Add(h.Clock.GetUtcNow());
            }
        }

        for (var i = 0; i + 5 < admittedAt.Count; i++)
        {
            Assert.True(admittedAt[i + 5] - admittedAt[i] >= TimeSpan.FromSeconds(1), $"6 admissions within one second at {admittedAt[i]:O}");
        }

        Assert.True(admittedAt.Count >= 95, $"only {admittedAt.Count} admitted: the window denies for much longer than one segment");
    }

    [Fact]
    public async Task SlidingWindow_RetryAfter_WaitingExactlyThatLongSucceeds_OneTickLessFails()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.SlidingWindow("writes", R("2/s"));
        h.Clock.Advance(TimeSpan.FromMilliseconds(1234.5));
        await h.Acquire(layer.For("d"));
        h.Clock.Advance(TimeSpan.FromMilliseconds(300));
        await h.Acquire(layer.For("d"));

        var denied = await h.Acquire(layer.For("d"));
        h.Clock.Advance(denied.RetryAfter - OneTick);
        var early = await h.Acquire(layer.For("d"));
        h.Clock.Advance(OneTick);
        var onTime = await h.Acquire(layer.For("d"));

        Assert.False(denied.IsAllowed);
        Assert.InRange(denied.RetryAfter, TimeSpan.FromMilliseconds(700), TimeSpan.FromMilliseconds(800));
        Assert.False(early.IsAllowed);
        Assert.True(onTime.IsAllowed);
    }

    // ---- Token bucket --------------------------------------------------------------------------

    [Fact]
    public async Task TokenBucket_AllowsABurstOfTheLimit_ThenRefillsOneTokenPerInterval()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.TokenBucket("api-key", R("60/min"));

        var burst = await CountAdmitted(h, 70, layer.For("k"));
        h.Clock.Advance(TimeSpan.FromSeconds(3));
        var refilled = await CountAdmitted(h, 10, layer.For("k"));

        Assert.Equal(60, burst);
        Assert.Equal(3, refilled);
    }

    [Fact]
    public async Task TokenBucket_RetryAfter_WaitingExactlyThatLongSucceeds_OneTickLessFails()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.TokenBucket("api-key", R("7/s"));
        await CountAdmitted(h, 7, layer.For("k"));

        var denied = await h.Acquire(3, layer.For("k"));
        h.Clock.Advance(denied.RetryAfter - OneTick);
        var early = await h.Acquire(3, layer.For("k"));
        h.Clock.Advance(OneTick);
        var onTime = await h.Acquire(3, layer.For("k"));

        Assert.False(denied.IsAllowed);
        Assert.False(early.IsAllowed);
        Assert.True(onTime.IsAllowed);
    }

    // ---- Several rates and layers --------------------------------------------------------------

    [Fact]
    public async Task MultiRateLayer_EnforcesEveryRateAtOnce()
    {
        await using var h = await CreateAsync();
        var layer = new RateLimitLayer("dns_api_per_domain_expensive", RateLimitAlgorithm.SlidingWindow, [R("2/s"), R("15/min"), R("100/h"), R("300/day")], shadow: false);
        var admitted = 0;
        RateLimitResult? last = null;

        for (var second = 0; second < 20; second++)
        {
            admitted += await CountAdmitted(h, 3, layer.For("example.com"));
            h.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        last = await h.Acquire(layer.For("example.com"));
        Assert.Equal(15, admitted);
        Assert.False(last.IsAllowed);
        Assert.Equal(1, last.DeniedBy!.Value.RateIndex);
        Assert.Equal(4, last.Statuses.Count);
        Assert.Equal([2L, 15L, 100L, 300L], last.Statuses.Select(s => s.Limit));
        Assert.Equal([2L, 0L, 85L, 285L], last.Statuses.Select(s => s.Remaining));
    }

    [Fact]
    public async Task MultiRateLayer_RetryAfterIsTheWaitOfTheRateThatFreesLast()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("writes", R("2/s"), R("3/min"));
        await h.Acquire(layer.For("d"));
        await h.Acquire(layer.For("d"));
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        await h.Acquire(layer.For("d"));

        var denied = await h.Acquire(layer.For("d"));

        Assert.False(denied.IsAllowed);
        Assert.Equal(TimeSpan.FromSeconds(59), denied.RetryAfter);
        Assert.Equal(R("3/min"), denied.DeniedBy!.Value.Rate);
    }

    [Fact]
    public async Task Layers_ExceedingAnyOneDenies_AndTheDenyingLayerIsNamed()
    {
        await using var h = await CreateAsync();
        var ip = RateLimitLayer.FixedWindow("global-ip", R("100/min"));
        var key = RateLimitLayer.FixedWindow("api-key", R("2/min"));

        await h.Acquire(ip.For("1.2.3.4"), key.For("k"));
        await h.Acquire(ip.For("1.2.3.4"), key.For("k"));
        var denied = await h.Acquire(ip.For("1.2.3.4"), key.For("k"));

        Assert.False(denied.IsAllowed);
        Assert.Same(key, denied.DeniedLayer);
        Assert.Equal(RateOutcome.Allowed, denied.Statuses[0].Outcome);
        Assert.Equal(RateOutcome.Denied, denied.Statuses[1].Outcome);
    }

    [Fact]
    public async Task Layers_ADeniedRequestChargesNoLayer()
    {
        await using var h = await CreateAsync();
        var ip = RateLimitLayer.FixedWindow("global-ip", R("10/min"));
        var auth = RateLimitLayer.FixedWindow("auth", R("1/min"));
        await h.Acquire(ip.For("ip"), auth.For("ip"));

        for (var i = 0; i < 5; i++)
        {
            var denied = await h.Acquire(ip.For("ip"), auth.For("ip"));
            Assert.False(denied.IsAllowed);
            Assert.Equal(9, denied.Statuses[0].Remaining);
        }

        var ipOnly = await h.Acquire(0, ip.For("ip"));
        Assert.Equal(9, ipOnly.Statuses[0].Remaining);
    }

    [Fact]
    public async Task Layers_DifferentKeysAreCountedApart()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("per-domain", R("2/s"));

        var a = await CountAdmitted(h, 3, layer.For("a.example"));
        var b = await CountAdmitted(h, 3, layer.For("b.example"));

        Assert.Equal(2, a);
        Assert.Equal(2, b);
    }

    [Fact]
    public async Task Statuses_ReportLimitRemainingAndReset_ForEveryLayerAndRate()
    {
        await using var h = await CreateAsync();
        var ip = RateLimitLayer.FixedWindow("global-ip", R("100/min"));
        var key = RateLimitLayer.FixedWindow("api-key", R("10/s"), R("60/min"));

        var result = await h.Acquire(ip.For("ip"), key.For("k"));

        Assert.Equal(3, result.Statuses.Count);
        Assert.Equal((0, 0, 100L, 99L), (result.Statuses[0].LayerIndex, result.Statuses[0].RateIndex, result.Statuses[0].Limit, result.Statuses[0].Remaining));
        Assert.Equal((1, 0, 10L, 9L), (result.Statuses[1].LayerIndex, result.Statuses[1].RateIndex, result.Statuses[1].Limit, result.Statuses[1].Remaining));
        Assert.Equal((1, 1, 60L, 59L), (result.Statuses[2].LayerIndex, result.Statuses[2].RateIndex, result.Statuses[2].Limit, result.Statuses[2].Remaining));
        Assert.Equal(ManualTimeProvider.DefaultStart.AddSeconds(1), result.Statuses[1].ResetAt);
        Assert.Equal(ManualTimeProvider.DefaultStart.AddMinutes(1), result.Statuses[2].ResetAt);
    }

    // ---- Cost ----------------------------------------------------------------------------------

    [Fact]
    public async Task Cost_IsChargedToEveryRate()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("writes", R("10/s"), R("20/min"));

        var result = await h.Acquire(4, layer.For("d"));

        Assert.Equal([6L, 16L], result.Statuses.Select(s => s.Remaining));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    public async Task Cost_LargerThanTheLimit_NeverPasses_AndIsReportedAsSuch(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var layer = new RateLimitLayer("writes", algorithm, R("5/s"));

        var result = await h.Acquire(6, layer.For("d"));
        var afterwards = await h.Acquire(5, layer.For("d"));

        Assert.False(result.IsAllowed);
        Assert.True(result.Decision.CostExceedsLimit);
        Assert.True(result.Statuses[0].CostExceedsLimit);
        Assert.Equal(Timeout.InfiniteTimeSpan, result.RetryAfter);
        Assert.True(afterwards.IsAllowed);
    }

    [Fact]
    public async Task Cost_Zero_ReadsTheStateWithoutCharging()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("api-key", R("5/min"));
        await h.Acquire(layer.For("k"));

        var peek = await h.Acquire(0, layer.For("k"));
        var again = await h.Acquire(0, layer.For("k"));

        Assert.True(peek.IsAllowed);
        Assert.Equal(4, peek.Statuses[0].Remaining);
        Assert.Equal(4, again.Statuses[0].Remaining);
    }

    // ---- Shadow --------------------------------------------------------------------------------

    [Fact]
    public async Task ShadowLayer_NeverDenies_ButReportsTheWouldBeDenial()
    {
        await using var h = await CreateAsync();
        var shadow = new RateLimitLayer("new-limit", RateLimitAlgorithm.FixedWindow, [R("1/min")], shadow: true);
        var enforced = RateLimitLayer.FixedWindow("api-key", R("10/min"));

        var first = await h.Acquire(shadow.For("k"), enforced.For("k"));
        var second = await h.Acquire(shadow.For("k"), enforced.For("k"));

        Assert.True(first.IsAllowed);
        Assert.True(second.IsAllowed);
        Assert.Equal(RateOutcome.ShadowDenied, second.Statuses[0].Outcome);
        Assert.Equal(0, second.Statuses[0].Remaining);
        Assert.Equal(8, second.Statuses[1].Remaining);
        Assert.Equal(-1, second.Decision.DeniedStatusIndex);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task RandomTraffic_EveryFiniteRetryAfter_IsExact_WaitingThatLongSucceeds_OneTickLessFails(int seed)
    {
        await using var h = await CreateAsync();
        var random = new Random(seed);
        RateLimitLayer[] pool =
        [
            RateLimitLayer.FixedWindow("fixed", R("3/s"), R("10/min")),
            new RateLimitLayer("sliding", RateLimitAlgorithm.SlidingWindow, [R("2/s"), R("5/20s")], shadow: false, slidingWindowSegments: 4),
            RateLimitLayer.TokenBucket("bucket", R("3/2s")),
            RateLimitLayer.FixedWindow("auth", R("2/15min")),
        ];
        var checkedDenials = 0;
        for (var step = 0; step < 300; step++)
        {
            // Whole microseconds (the stores' resolution), at no particular alignment.
            h.Clock.Advance(TimeSpan.FromMicroseconds(random.Next(0, 3_000_000)));
            var layers = pool.Where(_ => random.Next(2) == 0).Select(l => l.For(random.Next(2) == 0 ? "a" : "b")).ToArray();
            if (layers.Length == 0)
            {
                continue;
            }

            var cost = random.Next(4) == 0 ? 2 : 1;
            var result = await h.Acquire(cost, layers);
            if (result.IsAllowed || result.RetryAfter <= TimeSpan.Zero || result.DeniedBy!.Value.CostExceedsLimit)
            {
                continue;
            }

            var context = $"seed {seed}, step {step}, cost {cost}, layers [{string.Join(", ", layers.Select(l => $"{l.Layer.Name}:{l.Key}"))}], retry after {result.RetryAfter}";
            h.Clock.Advance(result.RetryAfter - OneTick);
            Assert.False((await h.Acquire(cost, layers)).IsAllowed, $"{context}: allowed one tick early");
            h.Clock.Advance(OneTick);
            Assert.True((await h.Acquire(cost, layers)).IsAllowed, $"{context}: denied after waiting exactly that long");
            checkedDenials++;
        }

        Assert.True(checkedDenials >= 20, $"only {checkedDenials} denials were checked");
    }

    [Fact]
    public async Task ADecisionOverTheStoresLayerLimit_IsRefused_AndOneAtTheLimitIsDecided()
    {
        await using var h = await CreateAsync();
        var most = h.Store.MaxLayersPerDecision;
        var layers = Enumerable.Range(0, most + 1).Select(i => RateLimitLayer.FixedWindow($"layer-{i}", R("5/min")).For("k")).ToArray();

        Assert.InRange(most, 8, 1024);
        Assert.True((await h.Acquire(layers[..most])).IsAllowed);
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await h.Acquire(layers));
        Assert.Contains($"at most {most} layers", error.Message);
    }

    // ---- Overrides -----------------------------------------------------------------------------

    [Fact]
    public async Task Override_ReplacesTheRatesForOneKey_AndKeepsItsUsage()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("api-key", R("60/min"));
        for (var i = 0; i < 60; i++)
        {
            await h.Acquire(layer.For("vip"));
        }

        await h.Store.SetOverrideAsync(layer, "vip", [R("600/min")]);
        var vip = await h.Acquire(layer.For("vip"));
        var other = await h.Acquire(layer.For("other"));

        Assert.True(vip.IsAllowed);
        Assert.True(vip.Statuses[0].IsOverride);
        Assert.Equal(600, vip.Statuses[0].Limit);
        Assert.Equal(539, vip.Statuses[0].Remaining);
        Assert.Equal(59, other.Statuses[0].Remaining);
        Assert.Equal([R("600/min")], await h.Store.GetOverrideAsync(layer, "vip"));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    [InlineData(RateLimitAlgorithm.Concurrency)]
    public async Task Override_BelowCurrentUsage_DeniesWithNothingRemaining_NeverANegativeCount(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var layer = new RateLimitLayer("api-key", algorithm, R("10/min"));
        for (var i = 0; i < 6; i++)
        {
            Assert.True((await h.Acquire(layer.For("k"))).IsAllowed);
        }

        await h.Store.SetOverrideAsync(layer, "k", [R("2/min")]);
        var denied = await h.Acquire(layer.For("k"));
        var peek = await h.Acquire(0, layer.For("k"));

        Assert.False(denied.IsAllowed);
        Assert.Equal(0, denied.Statuses[0].Remaining);
        Assert.Equal(2, denied.Statuses[0].Limit);
        Assert.Equal(0, peek.Statuses[0].Remaining);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task Override_ThatChangesThePeriod_KeepsTheCount_InTheNewPeriodsWindow(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var layer = new RateLimitLayer("api-key", algorithm, R("5/s"));
        h.Clock.Advance(TimeSpan.FromMilliseconds(300));
        foreach (var key in new[] { "raised", "lowered" })
        {
            for (var i = 0; i < 4; i++)
            {
                Assert.True((await h.Acquire(layer.For(key))).IsAllowed);
            }
        }

        await h.Store.SetOverrideAsync(layer, "raised", [R("10/min")]);
        await h.Store.SetOverrideAsync(layer, "lowered", [R("3/min")]);
        var admitted = 0;
        while ((await h.Acquire(layer.For("raised"))) is { IsAllowed: true } && admitted < 20)
        {
            admitted++;
        }

        var denied = await h.Acquire(layer.For("lowered"));
        h.Clock.Advance(denied.RetryAfter - TimeSpan.FromTicks(10));
        var early = await h.Acquire(layer.For("lowered"));
        h.Clock.Advance(TimeSpan.FromTicks(10));
        var afterTheWait = await h.Acquire(layer.For("lowered"));

        // The 4 counted under 5/s stay counted under the minute's rate: 6 more for the raised key, none for the lowered
        // one until the new window has passed over them (a minute for a fixed window; for a sliding one, the segment
        // they were moved into leaves the window).
        Assert.Equal(6, admitted);
        Assert.False(denied.IsAllowed);
        Assert.Equal(0, denied.Statuses[0].Remaining);
        Assert.InRange(denied.RetryAfter, TimeSpan.FromSeconds(59), TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(6));
        Assert.False(early.IsAllowed);
        Assert.True(afterTheWait.IsAllowed);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task RemovingAnOverrideOfAnotherPeriod_CarriesTheCountBackToTheLayersRate(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var layer = new RateLimitLayer("api-key", algorithm, R("5/s"));
        await h.Store.SetOverrideAsync(layer, "k", [R("100/min")]);
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await h.Acquire(layer.For("k"))).IsAllowed);
        }

        h.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(await h.Store.RemoveOverrideAsync(layer, "k"));
        var last = await h.Acquire(layer.For("k"));
        var over = await h.Acquire(layer.For("k"));

        Assert.True(last.IsAllowed);
        Assert.Equal(0, last.Statuses[0].Remaining);
        Assert.False(over.IsAllowed);
    }

    [Fact]
    public async Task TokenBucket_OverrideBelowWhatTheBucketOwes_ReportsNothingRemaining_NeverANegativeCount()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.TokenBucket("api-key", R("10/min"));
        for (var i = 0; i < 10; i++)
        {
            Assert.True((await h.Acquire(layer.For("k"))).IsAllowed);
        }

        await h.Store.SetOverrideAsync(layer, "k", [R("2/s")]);
        var denied = await h.Acquire(layer.For("k"));

        Assert.False(denied.IsAllowed);
        Assert.Equal(0, denied.Statuses[0].Remaining);
    }

    [Fact]
    public async Task Override_Removed_RestoresTheLayerRates_AndKeepsUsage()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("api-key", R("5/min"));
        await h.Store.SetOverrideAsync(layer, "k", [R("50/min")]);
        for (var i = 0; i < 4; i++)
        {
            await h.Acquire(layer.For("k"));
        }

        Assert.True(await h.Store.RemoveOverrideAsync(layer, "k"));
        var result = await h.Acquire(layer.For("k"));

        Assert.Equal(5, result.Statuses[0].Limit);
        Assert.Equal(0, result.Statuses[0].Remaining);
        Assert.False((await h.Acquire(layer.For("k"))).IsAllowed);
        Assert.Null(await h.Store.GetOverrideAsync(layer, "k"));
        Assert.False(await h.Store.RemoveOverrideAsync(layer, "k"));
    }

    [Fact]
    public async Task Override_WithMoreRatesThanTheLayer_EnforcesThemAll()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("api-key", R("60/min"));
        await h.Acquire(layer.For("k"));

        await h.Store.SetOverrideAsync(layer, "k", [R("600/min"), R("2/s")]);
        var second = await h.Acquire(layer.For("k"));
        var third = await h.Acquire(layer.For("k"));
        var fourth = await h.Acquire(layer.For("k"));

        Assert.True(second.IsAllowed);
        Assert.Equal(598, second.Statuses[0].Remaining);
        Assert.True(third.IsAllowed);
        Assert.False(fourth.IsAllowed);
        Assert.Equal(1, fourth.DeniedBy!.Value.RateIndex);
    }

    [Fact]
    public async Task Override_ThatDoesNotSuitTheLayer_IsRejectedWithEveryProblem()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.Concurrency("writes", 1);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await h.Store.SetOverrideAsync(layer, "k", [R("1/s"), R("1/s")]));

        Assert.Contains("exactly one rate", error.Message);
        Assert.Contains("repeated", error.Message);
    }

    [Fact]
    public async Task ALayerRebuiltWithTheSameName_KeepsUsage_AndAppliesItsNewRates()
    {
        await using var h = await CreateAsync();
        var before = RateLimitLayer.FixedWindow("api-key", R("10/min"));
        for (var i = 0; i < 8; i++)
        {
            await h.Acquire(before.For("k"));
        }

        var reloaded = RateLimitLayer.FixedWindow("api-key", R("20/min"));
        var result = await h.Acquire(reloaded.For("k"));

        Assert.Equal(20, result.Statuses[0].Limit);
        Assert.Equal(11, result.Statuses[0].Remaining);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task AReloadThatChangesAPeriod_KeepsEachKeysUsage_ExceptWhereAnOverrideApplies(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var before = new RateLimitLayer("api-key", algorithm, R("5/s"));
        h.Clock.Advance(TimeSpan.FromMilliseconds(300));
        await h.Store.SetOverrideAsync(before, "vip", [R("3/min")]);
        for (var i = 0; i < 4; i++)
        {
            await h.Acquire(before.For("k"));
        }

        await h.Acquire(before.For("vip"));
        await h.Acquire(before.For("vip"));

        // The configuration is reloaded: the layer object is rebuilt with a minute's rate.
        var reloaded = new RateLimitLayer("api-key", algorithm, R("10/min"));
        var k = await h.Acquire(reloaded.For("k"));
        var vip = await h.Acquire(reloaded.For("vip"));
        var fresh = await h.Acquire(reloaded.For("new"));

        // The 4 of the second now count in the minute (5 left after this one); the overridden key keeps 3/min.
        Assert.True(k.IsAllowed);
        Assert.Equal(5, k.Statuses[0].Remaining);
        Assert.True(vip.IsAllowed);
        Assert.Equal(0, vip.Statuses[0].Remaining);
        Assert.True(fresh.IsAllowed);
        Assert.Equal(9, fresh.Statuses[0].Remaining);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow, 60, 4)]
    [InlineData(RateLimitAlgorithm.SlidingWindow, 66, 3)]
    public async Task UsageCarriedByAReload_LeavesWithTheNewWindowOfTheReloadsMoment(RateLimitAlgorithm algorithm, int secondsUntilGone, int remainingThen)
    {
        await using var h = await CreateAsync();

        // Reloaded as 5/min at the minute's start; the key is next seen later, while the old hour still counts its 4.
        var perMinute = await ReloadedAfterFourOfAnHourAsync(h, algorithm, "5/min");
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        var inTheMinute = await h.Acquire(perMinute.For("k"));
        var over = await h.Acquire(perMinute.For("k"));
        h.Clock.Advance(TimeSpan.FromSeconds(secondsUntilGone - 30) - TimeSpan.FromMilliseconds(1));
        var justBefore = await h.Acquire(perMinute.For("k"));
        h.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var after = await h.Acquire(perMinute.For("k"));

        // The 4 moved into the minute (a fixed window's) or the segment (a sliding window's) of the reload's moment,
        // and leave with it; a sliding window still counts the request of second 30 after that.
        Assert.True(inTheMinute.IsAllowed);
        Assert.Equal(0, inTheMinute.Statuses[0].Remaining);
        Assert.False(over.IsAllowed);
        Assert.False(justBefore.IsAllowed);
        Assert.True(after.IsAllowed);
        Assert.Equal(remainingThen, after.Statuses[0].Remaining);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow, 3)]
    [InlineData(RateLimitAlgorithm.FixedWindow, 2)]
    [InlineData(RateLimitAlgorithm.SlidingWindow, 3)]
    [InlineData(RateLimitAlgorithm.SlidingWindow, 2)]
    public async Task ARateAReloadDropped_CountsItsUsageAgain_WhenALaterReloadBringsItBackWithinItsWindow(RateLimitAlgorithm algorithm, int ratesBack)
    {
        await using var h = await CreateAsync();
        var first = new RateLimitLayer("dns", algorithm, [R("8/5s"), R("11/15min")], shadow: false, slidingWindowSegments: 6);
        for (var i = 0; i < 11; i++)
        {
            Assert.True((await h.Acquire(first.For("c"))).IsAllowed);
            h.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        // Reloaded to one short rate, twice: the minute's usage waits in its own terms. Two minutes on, the key's own
        // state under the short rates is long gone, and other keys' decisions sweep its stripe.
        var shortOnly = new RateLimitLayer("dns", algorithm, [R("8/s")], shadow: false, slidingWindowSegments: 6);
        await h.Acquire(shortOnly.For("c"));
        h.Clock.Advance(TimeSpan.FromSeconds(10));
        var otherShort = new RateLimitLayer("dns", algorithm, [R("10/30s")], shadow: false, slidingWindowSegments: 6);
        await h.Acquire(otherShort.For("c"));
        h.Clock.Advance(TimeSpan.FromMinutes(2));
        for (var i = 0; i < 64; i++)
        {
            await h.Acquire(otherShort.For("other-" + i));
        }

        // Back with the 15 minutes at the same position (and, with 3 rates, one more, which grows every key's state).
        Rate[] rates = ratesBack == 3 ? [R("3/10s"), R("9/15min"), R("9/5s")] : [R("3/10s"), R("9/15min")];
        var back = new RateLimitLayer("dns", algorithm, rates, shadow: false, slidingWindowSegments: 6);
        var result = await h.Acquire(back.For("c"));

        // The 11 of the first 15 minutes still count against its 9.
        Assert.False(result.IsAllowed);
        Assert.Equal(RateOutcome.Denied, result.Statuses[1].Outcome);
        Assert.Equal(0, result.Statuses[1].Remaining);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task TwoReloadsBeforeAKeyIsSeenAgain_CarryItsUsageThroughBoth(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        await ReloadedAfterFourOfAnHourAsync(h, algorithm, "10/min");
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        var third = new RateLimitLayer("api-key", algorithm, R("20/2min"));
        await h.Acquire(third.For("someone-else"));
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        var k = await h.Acquire(third.For("k"));

        // Hour to minute at the first reload, minute to two minutes at the second: the 4 count all along.
        Assert.True(k.IsAllowed);
        Assert.Equal(15, k.Statuses[0].Remaining);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task AnOverrideSetAfterAReload_KeepsTheUsageTheReloadCarried(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var perMinute = await ReloadedAfterFourOfAnHourAsync(h, algorithm, "10/min");
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        await h.Store.SetOverrideAsync(perMinute, "k", [R("20/2min")]);
        var k = await h.Acquire(perMinute.For("k"));

        Assert.True(k.IsAllowed);
        Assert.Equal(15, k.Statuses[0].Remaining);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task AReloadThatAddsOrDropsARate_CarriesTheRatesItKeeps_AndStartsANewOneEmpty(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var one = new RateLimitLayer("writes", algorithm, R("5/min"));
        for (var i = 0; i < 4; i++)
        {
            await h.Acquire(one.For("k"));
        }

        var two = new RateLimitLayer("writes", algorithm, R("10/h"), R("20/day"));
        var afterAdding = await h.Acquire(two.For("k"));
        var backToOne = new RateLimitLayer("writes", algorithm, R("6/h"));
        var afterDropping = await h.Acquire(backToOne.For("k"));

        // The minute's 4 move into the hour (and then stay there); the day's rate is new and counts from now.
        Assert.Equal([5, 19], afterAdding.Statuses.Select(s => s.Remaining));
        Assert.True(afterAdding.IsAllowed);
        Assert.Equal(0, afterDropping.Statuses.Single().Remaining);
        Assert.True(afterDropping.IsAllowed);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task ARateOneReloadDropsAndALaterOneBringsBack_CountsItsUsageAgain_WhileTheOtherRateIsConverted(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        h.Clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerMinute - (h.Clock.GetUtcNow().UtcTicks % TimeSpan.TicksPerMinute)));
        var first = new RateLimitLayer("writes", algorithm, R("10/s"), R("5/min"));
        for (var i = 0; i < 3; i++)
        {
            await h.Acquire(first.For("k"));
        }

        // Each reload also changes the first rate's period, so that both are conversions, not only a rate count change.
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        var dropped = new RateLimitLayer("writes", algorithm, R("20/min"));
        await h.Acquire(dropped.For("someone-else"));
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        var back = new RateLimitLayer("writes", algorithm, R("10/10s"), R("5/min"));
        var k = await h.Acquire(back.For("k"));

        // The second's 3 had ended by the first reload; the minute's 3 are still in their minute when the rate returns.
        Assert.True(k.IsAllowed);
        Assert.Equal([9, 1], k.Statuses.Select(s => s.Remaining));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task ARateBroughtBackWithAnotherPeriod_CarriesTheUsageItHadWhenDropped(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        h.Clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerHour - (h.Clock.GetUtcNow().UtcTicks % TimeSpan.TicksPerHour)));
        var first = new RateLimitLayer("writes", algorithm, R("10/s"), R("5/min"));
        for (var i = 0; i < 3; i++)
        {
            await h.Acquire(first.For("k"));
        }

        h.Clock.Advance(TimeSpan.FromSeconds(5));
        await h.Acquire(new RateLimitLayer("writes", algorithm, R("20/min")).For("someone-else"));
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        var back = new RateLimitLayer("writes", algorithm, R("10/10s"), R("10/h"));
        var k = await h.Acquire(back.For("k"));

        // The minute's 3, kept while the rate was gone, move into the hour as any period change moves them.
        Assert.True(k.IsAllowed);
        Assert.Equal([9, 6], k.Statuses.Select(s => s.Remaining));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task ARateConvertedThenDroppedThenBroughtBack_StartsFromWhatTheConversionLeft_NotFromItsOlderWindow(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        h.Clock.Advance(TimeSpan.FromTicks((15 * TimeSpan.TicksPerMinute) - (h.Clock.GetUtcNow().UtcTicks % (15 * TimeSpan.TicksPerMinute))));
        var first = new RateLimitLayer("writes", algorithm, R("10/s"), R("5/15min"));
        for (var i = 0; i < 3; i++)
        {
            await h.Acquire(first.For("k"));
        }

        // The quarter's 3 move into ten seconds that end long before the rate returns with its quarter of an hour,
        // whose window (the same one the 3 were counted in) is still open then: only a reader that skips the first
        // reload would count them again.
        h.Clock.Advance(TimeSpan.FromSeconds(2));
        await h.Acquire(new RateLimitLayer("writes", algorithm, R("10/s"), R("8/10s")).For("someone-else"));
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        await h.Acquire(new RateLimitLayer("writes", algorithm, R("10/s")).For("someone-else"));
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        var k = await h.Acquire(new RateLimitLayer("writes", algorithm, R("10/s"), R("5/15min")).For("k"));

        Assert.True(k.IsAllowed);
        Assert.Equal([9, 4], k.Statuses.Select(s => s.Remaining));
    }

    /// <summary>
    /// At the start of a two-minute window, key <c>k</c> uses 4 of <c>100/h</c>; then the layer is rebuilt with
    /// <paramref name="rate"/>, as a configuration reload does, and a decision for another key meets it first.
    /// </summary>
    private static async Task<RateLimitLayer> ReloadedAfterFourOfAnHourAsync(StoreHarness h, RateLimitAlgorithm algorithm, string rate)
    {
        h.Clock.Advance(TimeSpan.FromTicks((2 * TimeSpan.TicksPerMinute) - (h.Clock.GetUtcNow().UtcTicks % (2 * TimeSpan.TicksPerMinute))));
        var hourly = new RateLimitLayer("api-key", algorithm, R("100/h"));
        for (var i = 0; i < 4; i++)
        {
            await h.Acquire(hourly.For("k"));
        }

        var reloaded = new RateLimitLayer("api-key", algorithm, R(rate));
        await h.Acquire(reloaded.For("someone-else"));
        return reloaded;
    }

    [Theory]
    [InlineData("3/min")]
    [InlineData("3/min", "100/h")]
    public async Task AClockThatStepsBackAcrossAWindowsStart_DoesNotResetThatFixedWindow(params string[] rates)
    {
        await using var h = await CreateAsync();
        h.Clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerMinute - (h.Clock.GetUtcNow().UtcTicks % TimeSpan.TicksPerMinute)) + TimeSpan.FromSeconds(5));
        var layer = RateLimitLayer.FixedWindow("ip", [.. rates.Select(R)]);
        for (var i = 0; i < 3; i++)
        {
            await h.Acquire(layer.For("k"));
        }

        // Ten seconds back, into the previous minute (an NTP correction): the minute already counted its 3.
        h.Clock.SetUtcNow(h.Clock.GetUtcNow() - TimeSpan.FromSeconds(10));
        var back = await h.Acquire(layer.For("k"));

        Assert.False(back.IsAllowed);
        Assert.Equal(0, back.Statuses[0].Remaining);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    public async Task TheLongestRateThatParses_IsDecidedAndReported_InDatesAClientCanRead(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var longest = Rate.Parse("2/36525day");
        var layer = new RateLimitLayer("api-key", algorithm, longest);

        var first = await h.Acquire(layer.For("k"));
        var second = await h.Acquire(layer.For("k"));
        var third = await h.Acquire(layer.For("k"));

        // A hundred years, the longest period a rate may have: every time in the decision is a date before 10000, and the
        // arithmetic stays exact where numbers are doubles (Redis's Lua).
        Assert.True(first.IsAllowed);
        Assert.True(second.IsAllowed);
        Assert.False(third.IsAllowed);
        Assert.Equal(0, third.Statuses[0].Remaining);
        Assert.InRange(third.Statuses[0].ResetAt, h.Clock.GetUtcNow(), h.Clock.GetUtcNow().AddDays(2 * 36525));
        Assert.InRange(third.RetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromDays(2 * 36525));
        Assert.Throws<FormatException>(() => Rate.Parse("2/36526day"));
    }

    [Fact]
    public async Task LayersWhoseNameAndKeyJoinToTheSameText_KeepTheirOwnCounts()
    {
        await using var h = await CreateAsync();
        var api = RateLimitLayer.FixedWindow("api", R("1/min"));
        var apiF = RateLimitLayer.FixedWindow("api:f", R("1/min"));

        var first = await h.Acquire(api.For("f:x"));
        var second = await h.Acquire(apiF.For("x"));

        Assert.True(first.IsAllowed);
        Assert.True(second.IsAllowed);
    }

    [Theory]
    [InlineData("v#1")]
    [InlineData("v##1")]
    [InlineData("v#")]
    public async Task KeysThatLookLikeAnotherKeysSecondRate_NeverShareItsState(string lookalike)
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.FixedWindow("writes", R("5/min"), R("3/h"));
        var lookalikes = RateLimitLayer.FixedWindow("writes", R("5/min"), R("3/h"), R("4/day"));
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await h.Acquire(layer.For("v"))).IsAllowed);
        }

        var other = await h.Acquire(lookalikes.For(lookalike));
        var fourth = await h.Acquire(layer.For("v"));

        // A store that names a key's further rates after the key ("v" and "#1") must not let a client whose key is
        // that name reset or use them.
        Assert.True(other.IsAllowed);
        Assert.Equal([4, 2, 3], other.Statuses.Select(s => s.Remaining));
        Assert.False(fourth.IsAllowed);
        Assert.Equal(1, fourth.DeniedBy!.Value.RateIndex);
    }

    // ---- Concurrency ---------------------------------------------------------------------------

    [Fact]
    public async Task Concurrency_AllowsAtMostNInFlight_AndAReleaseFreesAPermit()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.Concurrency("writes", 2);

        var first = await h.Acquire(layer.For("d"));
        var second = await h.Acquire(layer.For("d"));
        var third = await h.Acquire(layer.For("d"));
        await first.DisposeAsync();
        var fourth = await h.Acquire(layer.For("d"));

        Assert.True(first.IsAllowed && second.IsAllowed);
        Assert.False(third.IsAllowed);
        Assert.False(third.Decision.HasRetryAfter);
        Assert.True(fourth.IsAllowed);
        Assert.Equal(0, fourth.Statuses[0].Remaining);
    }

    [Fact]
    public async Task Concurrency_PermitIsReleasedWhenTheRequestThrows()
    {
        await using var h = await CreateAsync();
        var layer = RateLimitLayer.Concurrency("writes", 1);

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var lease = await h.Acquire(layer.For("d"));
            Assert.True(lease.IsAllowed);
            throw new InvalidOperationException("the handler failed");
        });
        var next = await h.Acquire(layer.For("d"));

        Assert.True(next.IsAllowed);
    }

    [Fact]
    public async Task Concurrency_ADeniedDecisionHoldsNoPermit()
    {
        await using var h = await CreateAsync();
        var writes = RateLimitLayer.Concurrency("writes", 1);
        var rate = RateLimitLayer.FixedWindow("rate", R("1/min"));
        await h.Acquire(rate.For("d"));

        var denied = await h.Acquire(writes.For("d"), rate.For("d"));
        var concurrencyOnly = await h.Acquire(writes.For("d"));

        Assert.False(denied.IsAllowed);
        Assert.Equal(0, denied.Decision.LeaseId);
        Assert.True(concurrencyOnly.IsAllowed);
    }

    // ---- Exactness under contention ------------------------------------------------------------

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    [InlineData(RateLimitAlgorithm.Concurrency)]
    public async Task ManyThreadsOnOneKey_NeverGetMoreAdmissionsThanTheLimit(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var layer = new RateLimitLayer("hot", algorithm, R("50/min"));
        var ip = RateLimitLayer.FixedWindow("ip", R("100000/min"));
        var admitted = 0;
        var threads = ConcurrencyLevel;

        await Task.WhenAll(Enumerable.Range(0, threads).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < AttemptsPerThread; i++)
            {
                var result = await h.Acquire(ip.For("shared-ip"), layer.For("one-key"));
                if (result.IsAllowed)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        })));

        Assert.Equal(50, admitted);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    public async Task OverridesSetAndRemovedWhileManyThreadsDecide_NeverAdmitMoreThanTheLimitInForce_AndKeepAnExactCount(RateLimitAlgorithm algorithm)
    {
        await using var h = await CreateAsync();
        var layer = new RateLimitLayer("hot", algorithm, R("10/min"));

        // Twenty rounds, each in windows of its own: the callers start deciding, and while they run the key is raised
        // to 20/min (even rounds) or lowered back to the layer's 10/min (odd rounds), keeping its usage.
        for (var round = 0; round < 20; round++)
        {
            var admitted = 0;
            var callers = Enumerable.Range(0, ConcurrencyLevel).Select(_ => Task.Run(async () =>
            {
                for (var i = 0; i < 3; i++)
                {
                    if ((await h.Acquire(layer.For("one-key"))).IsAllowed)
                    {
                        Interlocked.Increment(ref admitted);
                    }
                }
            })).ToList();
            var raised = round % 2 == 0;
            if (raised)
            {
                await h.Store.SetOverrideAsync(layer, "one-key", [R("20/min")]);
            }
            else
            {
                await h.Store.RemoveOverrideAsync(layer, "one-key");
            }

            await Task.WhenAll(callers);
            var peek = await h.Acquire(0, layer.For("one-key"));
            var limit = raised ? 20 : 10;
            var context = $"round {round}: {admitted} admitted";

            Assert.True(admitted is >= 10 and <= 20, context);
            if (algorithm == RateLimitAlgorithm.TokenBucket)
            {
                // A bucket's usage is time owed: a token taken at 10/min owes twice what one at 20/min does.
                Assert.InRange(peek.Statuses[0].Remaining, 0, Math.Max(0, limit - admitted));
            }
            else
            {
                Assert.Equal(Math.Max(0, limit - admitted), peek.Statuses[0].Remaining);
            }

            h.Clock.Advance(TimeSpan.FromMinutes(2));
        }
    }

    [Fact]
    public async Task Layers_TheSameLayerTwiceWithTwoKeys_ChargesBothKeys_AndDeniesWhenEitherIsFull()
    {
        await using var h = await CreateAsync();
        var domain = RateLimitLayer.FixedWindow("domain", R("2/min"));

        Assert.True((await h.Acquire(domain.For("a.example"), domain.For("b.example"))).IsAllowed);
        Assert.True((await h.Acquire(domain.For("a.example"))).IsAllowed);
        var denied = await h.Acquire(domain.For("a.example"), domain.For("b.example"));

        Assert.False(denied.IsAllowed);
        Assert.Equal(RateOutcome.Denied, denied.Statuses[0].Outcome);
        Assert.Equal(RateOutcome.Allowed, denied.Statuses[1].Outcome);
        Assert.Equal(1, (await h.Acquire(0, domain.For("b.example"))).Statuses[0].Remaining);
    }

    [Fact]
    public async Task ManyThreadsOnThreeLayers_ChargeAllOrNothing_AndNeverExceedAnyLimit()
    {
        await using var h = await CreateAsync();
        var ip = RateLimitLayer.FixedWindow("ip", R("40/min"));
        var key = RateLimitLayer.FixedWindow("key", R("25/min"));
        var route = RateLimitLayer.TokenBucket("route", R("30/min"));
        var admittedA = 0;
        var admittedB = 0;

        // Half the callers use key "a", half key "b"; all share one IP and one route key.
        await Task.WhenAll(Enumerable.Range(0, ConcurrencyLevel).Select(t => Task.Run(async () =>
        {
            var apiKey = t % 2 == 0 ? "a" : "b";
            for (var i = 0; i < AttemptsPerThread; i++)
            {
                if ((await h.Acquire(ip.For("shared"), key.For(apiKey), route.For("shared"))).IsAllowed)
                {
                    Interlocked.Increment(ref apiKey == "a" ? ref admittedA : ref admittedB);
                }
            }
        })));

        // The route's 30 is the tightest limit in common; each key's 25 bounds its half.
        Assert.Equal(30, admittedA + admittedB);
        Assert.True(admittedA <= 25 && admittedB <= 25, $"a {admittedA}, b {admittedB}");
        Assert.Equal(40 - 30, (await h.Acquire(0, ip.For("shared"))).Statuses[0].Remaining);
        Assert.Equal(25 - admittedA, (await h.Acquire(0, key.For("a"))).Statuses[0].Remaining);
        Assert.Equal(25 - admittedB, (await h.Acquire(0, key.For("b"))).Statuses[0].Remaining);
    }

    /// <summary>Concurrent callers in the exactness test: 64 for in-process stores.</summary>
    protected virtual int ConcurrencyLevel => 64;

    /// <summary>Attempts per caller in the exactness test.</summary>
    protected virtual int AttemptsPerThread => 20;
}
