using System.Threading.RateLimiting;
using Sluice.RateLimiting;

namespace Sluice.Tests.RateLimiting;

public sealed class SluiceRateLimiterTests
{
    private readonly ManualTimeProvider _clock = new();
    private readonly MemoryRateLimitStore _store;

    public SluiceRateLimiterTests() => _store = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = _clock });

    [Fact]
    public void Options_Ctor_EnsureDefaults()
    {
        var options = new SluiceRateLimiterOptions();

        Assert.Equal(TimeSpan.Zero, options.MaxWait);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public void InvalidOptions_StopConstructionListingEveryProblem()
    {
        var options = new SluiceRateLimiterOptions { MaxWait = TimeSpan.FromSeconds(-1), TimeProvider = null! };

        var error = Assert.Throws<ArgumentException>(() => new SluiceRateLimiter(_store, [Layer("a", "1/s").For("k")], options));

        Assert.Contains("MaxWait is -00:00:01", error.Message);
        Assert.Contains("TimeProvider is null", error.Message);
    }

    [Fact]
    public void InvalidLayers_StopConstructionListingEveryProblem()
    {
        LayerKey[] layers = [new(null!, "k"), new(Layer("a", "1/s"), null!)];

        var error = Assert.Throws<ArgumentException>(() => new SluiceRateLimiter(_store, layers));
        var none = Assert.Throws<ArgumentException>(() => new SluiceRateLimiter(_store, []));
        var tooMany = Assert.Throws<ArgumentException>(
            () => new SluiceRateLimiter(_store, Enumerable.Range(0, 33).Select(i => Layer("l" + i, "1/s").For("k"))));

        Assert.Contains("layer 0 has no layer", error.Message);
        Assert.Contains("layer 1 has no key", error.Message);
        Assert.Contains("no layers are given", none.Message);
        Assert.Contains("the store decides at most 32 at once", tooMany.Message);
    }

    [Fact]
    public void AttemptAcquire_AdmitsWhileEveryRateHasRoom_ThenRefusesWithTheExactRetryAfter()
    {
        using var limiter = new SluiceRateLimiter(_store, [Layer("writes", "2/s", "15/min").For("example.com")]);

        using var first = limiter.AttemptAcquire();
        using var second = limiter.AttemptAcquire();
        using var third = limiter.AttemptAcquire();

        Assert.True(first.IsAcquired);
        Assert.True(second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.True(third.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.True(third.TryGetMetadata(SluiceMetadataNames.Layer, out var layer));
        Assert.Equal("writes", layer);
        Assert.True(third.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Equal("Rate limited by layer 'writes' (2/s).", reason);

        _clock.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(10));
        using var early = limiter.AttemptAcquire();
        _clock.Advance(TimeSpan.FromTicks(10));
        using var onTime = limiter.AttemptAcquire();
        Assert.False(early.IsAcquired);
        Assert.True(onTime.IsAcquired);
    }

    [Fact]
    public void ADeniedLease_CarriesTheStatusOfEveryRate_AndAnAcquiredOneIsSharedAndBare()
    {
        using var limiter = new SluiceRateLimiter(_store, [Layer("ip", "100/min").For("192.0.2.1"), Layer("writes", "2/s", "15/min").For("d")]);

        using var first = limiter.AttemptAcquire();
        using var second = limiter.AttemptAcquire();
        using var denied = limiter.AttemptAcquire();

        Assert.Same(first, second);
        Assert.Empty(first.MetadataNames);
        Assert.False(first.TryGetMetadata(SluiceMetadataNames.Statuses, out _));
        Assert.True(denied.TryGetMetadata(SluiceMetadataNames.Statuses, out var statuses));
        Assert.Equal([98L, 0L, 13L], statuses!.Select(s => s.Remaining));
        Assert.Equal([100L, 2L, 15L], statuses!.Select(s => s.Limit));
        Assert.Equal([RateOutcome.Allowed, RateOutcome.Denied, RateOutcome.Allowed], statuses!.Select(s => s.Outcome));
        Assert.Equal(
            [MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name, SluiceMetadataNames.Layer.Name, SluiceMetadataNames.Statuses.Name],
            denied.MetadataNames);
    }

    [Fact]
    public void ADeniedAcquisition_ChargesNoLayer()
    {
        var wide = Layer("ip", "10/min");
        var narrow = Layer("auth", "1/min");
        using var both = new SluiceRateLimiter(_store, [wide.For("192.0.2.1"), narrow.For("192.0.2.1")]);
        using var wideOnly = new SluiceRateLimiter(_store, [wide.For("192.0.2.1")]);

        Assert.True(both.AttemptAcquire().IsAcquired);
        for (var i = 0; i < 5; i++)
        {
            Assert.False(both.AttemptAcquire().IsAcquired);
        }

        Assert.Equal(9, wideOnly.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public void Permits_AreTheCostOfTheDecision_AndACountAboveTheLimitIsRefusedForGood()
    {
        using var limiter = new SluiceRateLimiter(_store, [Layer("bulk", "5/min").For("k")]);

        using var three = limiter.AttemptAcquire(3);
        using var threeMore = limiter.AttemptAcquire(3);
        using var two = limiter.AttemptAcquire(2);
        using var six = limiter.AttemptAcquire(6);

        Assert.True(three.IsAcquired);
        Assert.False(threeMore.IsAcquired);
        Assert.True(two.IsAcquired);
        Assert.False(six.IsAcquired);
        Assert.False(six.TryGetMetadata(MetadataName.RetryAfter, out _));
        Assert.True(six.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Contains("can never pass", reason);
        Assert.Throws<ArgumentOutOfRangeException>(() => limiter.AttemptAcquire(-1));
    }

    [Fact]
    public void ZeroPermits_AskWhetherAUnitIsLeft_WithoutCharging()
    {
        using var limiter = new SluiceRateLimiter(_store, [Layer("a", "2/min").For("k")]);

        using var whileFree = limiter.AttemptAcquire(0);
        using var one = limiter.AttemptAcquire();
        using var stillOne = limiter.AttemptAcquire(0);
        using var two = limiter.AttemptAcquire();
        using var exhausted = limiter.AttemptAcquire(0);

        Assert.True(whileFree.IsAcquired);
        Assert.True(one.IsAcquired);
        Assert.True(stillOne.IsAcquired);
        Assert.True(two.IsAcquired);
        Assert.False(exhausted.IsAcquired);
        Assert.Equal(0, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public void AShadowLayer_NeverRefuses_EvenWithZeroPermitsAsked()
    {
        var shadow = new RateLimitLayer("trial", RateLimitAlgorithm.FixedWindow, [Rate.Parse("1/min")], shadow: true);
        using var limiter = new SluiceRateLimiter(_store, [shadow.For("k")]);

        var acquired = Enumerable.Range(0, 5).Count(_ => limiter.AttemptAcquire().IsAcquired);

        Assert.Equal(5, acquired);
        Assert.True(limiter.AttemptAcquire(0).IsAcquired);
    }

    [Fact]
    public void LimitersOverTheSameLayersAndKeys_CountTogether()
    {
        var layer = Layer("api-key", "3/min");
        using var one = new SluiceRateLimiter(_store, [layer.For("key-1")]);
        using var other = new SluiceRateLimiter(_store, [layer.For("key-1")]);
        using var elsewhere = new SluiceRateLimiter(_store, [layer.For("key-2")]);

        var acquired = new[] { one, other, one, other }.Count(l => l.AttemptAcquire().IsAcquired);

        Assert.Equal(3, acquired);
        Assert.True(elsewhere.AttemptAcquire().IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_WithoutMaxWait_AnswersAtOnce()
    {
        using var limiter = new SluiceRateLimiter(_store, [Layer("a", "1/s").For("k")]);

        using var first = await limiter.AcquireAsync();
        using var second = await limiter.AcquireAsync();

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
        Assert.Equal(0, _clock.PendingTimers);
    }

    [Fact]
    public async Task AcquireAsync_WaitsForTheRetryAfterWithinMaxWait_ThenAcquires()
    {
        var options = new SluiceRateLimiterOptions { MaxWait = TimeSpan.FromSeconds(2), TimeProvider = _clock };
        using var limiter = new SluiceRateLimiter(_store, [Layer("a", "1/s").For("k")], options);
        Assert.True((await limiter.AcquireAsync()).IsAcquired);

        var waiting = limiter.AcquireAsync().AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(TimeSpan.FromSeconds(1), _clock.UntilNextTimer);
        _clock.Advance(TimeSpan.FromSeconds(1));
        using var lease = await waiting;

        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_RefusesAtOnce_WhenTheWaitIsLongerThanMaxWait()
    {
        var options = new SluiceRateLimiterOptions { MaxWait = TimeSpan.FromSeconds(30), TimeProvider = _clock };
        using var limiter = new SluiceRateLimiter(_store, [Layer("a", "1/min").For("k")], options);
        Assert.True((await limiter.AcquireAsync()).IsAcquired);

        var refused = limiter.AcquireAsync();

        Assert.True(refused.IsCompleted);
        using var lease = await refused;
        Assert.False(lease.IsAcquired);
        Assert.True(lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(1), retryAfter);
    }

    [Fact]
    public async Task AcquireAsync_WhileWaiting_ThrowsWhenCancelled()
    {
        var options = new SluiceRateLimiterOptions { MaxWait = TimeSpan.FromSeconds(5), TimeProvider = _clock };
        using var limiter = new SluiceRateLimiter(_store, [Layer("a", "1/s").For("k")], options);
        Assert.True((await limiter.AcquireAsync()).IsAcquired);
        using var cancel = new CancellationTokenSource();

        var waiting = limiter.AcquireAsync(1, cancel.Token).AsTask();
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public void AConcurrencyLease_HoldsItsPermitUntilDisposed_AndReturnsItOnce()
    {
        using var limiter = new SluiceRateLimiter(_store, [RateLimitLayer.Concurrency("writes", 1).For("d")], new SluiceRateLimiterOptions { TimeProvider = _clock });

        var held = limiter.AttemptAcquire();
        using var whileHeld = limiter.AttemptAcquire();
        var idleWhileHeld = limiter.IdleDuration;
        held.Dispose();
        held.Dispose();
        using var afterRelease = limiter.AttemptAcquire();
        using var second = limiter.AttemptAcquire();

        Assert.True(held.IsAcquired);
        Assert.False(whileHeld.IsAcquired);
        Assert.Null(idleWhileHeld);
        Assert.True(afterRelease.IsAcquired);
        Assert.False(second.IsAcquired);
    }

    [Fact]
    public void IdleDuration_IsTheTimeSinceTheLastDecision()
    {
        using var limiter = new SluiceRateLimiter(_store, [Layer("a", "10/s").For("k")], new SluiceRateLimiterOptions { TimeProvider = _clock });

        _clock.Advance(TimeSpan.FromSeconds(5));
        var beforeUse = limiter.IdleDuration;
        limiter.AttemptAcquire().Dispose();
        _clock.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(TimeSpan.FromSeconds(5), beforeUse);
        Assert.Equal(TimeSpan.FromSeconds(3), limiter.IdleDuration);
    }

    [Fact]
    public void GetStatistics_CountsLeases_AndReportsTheFewestPermitsAnyRateHasLeft()
    {
        using var limiter = new SluiceRateLimiter(_store, [Layer("ip", "100/min").For("a"), Layer("writes", "2/s", "15/min").For("d")]);

        limiter.AttemptAcquire().Dispose();
        limiter.AttemptAcquire().Dispose();
        limiter.AttemptAcquire().Dispose();
        var statistics = limiter.GetStatistics()!;

        Assert.Equal(0, statistics.CurrentAvailablePermits);
        Assert.Equal(0, statistics.CurrentQueuedCount);
        Assert.Equal(2, statistics.TotalSuccessfulLeases);
        Assert.Equal(1, statistics.TotalFailedLeases);
    }

    [Fact]
    public async Task ADisposedLimiter_ThrowsOnEveryCall()
    {
        var limiter = new SluiceRateLimiter(_store, [Layer("a", "1/s").For("k")]);

        await limiter.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquire());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await limiter.AcquireAsync());
        Assert.Throws<ObjectDisposedException>(() => limiter.GetStatistics());
    }

    private static RateLimitLayer Layer(string name, params string[] rates) => RateLimitLayer.FixedWindow(name, [.. rates.Select(Rate.Parse)]);
}
