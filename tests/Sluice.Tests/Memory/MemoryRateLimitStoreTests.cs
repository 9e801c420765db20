namespace Sluice.Tests.Memory;

public sealed class MemoryRateLimitStoreTests
{
    private readonly ManualTimeProvider _clock = new();

    private MemoryRateLimitStore CreateStore(int shards = 64) => new(new MemoryRateLimitStoreOptions { TimeProvider = _clock, ShardsPerLayer = shards });

    [Fact]
    public void Options_Ctor_EnsureDefaults()
    {
        var options = new MemoryRateLimitStoreOptions();

        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Equal(64, options.ShardsPerLayer);
        Assert.Equal(TimeSpan.FromSeconds(10), options.SweepInterval);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task TheUsageOfARateAnOverrideHides_IsNotReclaimed_BeforeItsWindowEnds(RateLimitAlgorithm algorithm)
    {
        // One stripe, so that another key's charge sweeps the stripe the overridden key lives in.
        var store = CreateStore(shards: 1);
        var statuses = new RateStatus[2];
        var layer = new RateLimitLayer("api-key", algorithm, [Rate.Parse("5/s"), Rate.Parse("10/h")], shadow: false);
        for (var i = 0; i < 4; i++)
        {
            store.Acquire([layer.For("k")], statuses);
        }

        // An override with one rate hides the hour while it is in force; the key is then idle past its own second.
        await store.SetOverrideAsync(layer, "k", [Rate.Parse("20/s")]);
        store.Acquire([layer.For("k")], statuses);
        _clock.Advance(TimeSpan.FromSeconds(30));
        store.Acquire([layer.For("other")], statuses);
        await store.RemoveOverrideAsync(layer, "k");

        // And once it is removed, the key is idle again across another sweep before its next request.
        _clock.Advance(TimeSpan.FromSeconds(30));
        store.Acquire([layer.For("other")], statuses);
        store.Acquire([layer.For("k")], statuses);

        // The hour still holds the 4 charged before the override.
        Assert.Equal(5, statuses[1].Remaining);
    }

    [Fact]
    public void AnOlderLayerObject_NeverTakesTheTableBack()
    {
        var store = CreateStore();
        var statuses = new RateStatus[1];
        var first = RateLimitLayer.FixedWindow("api-key", Rate.Parse("5/s"));
        var second = RateLimitLayer.FixedWindow("api-key", Rate.Parse("10/min"));
        store.Acquire([second.For("k")], statuses);
        store.Acquire([second.For("k")], statuses);

        // The older object decides for the first time only now: it reads the minute's state under its own rate (a count
        // of another period starts again there), and does not rewrite the table.
        store.Acquire([first.For("other")], statuses);
        store.Acquire([second.For("k")], statuses);

        Assert.Equal(7, statuses[0].Remaining);
    }

    [Fact]
    public void ATokenBucketWithABurst_AllowsTheBurstAtOnce_ThenTheRefillPace()
    {
        var clock = new ManualTimeProvider();
        var store = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock });
        var layer = RateLimitLayer.TokenBucket("api", Rate.Parse("10/s"), burst: 50);
        var statuses = new RateStatus[1];

        var burst = Enumerable.Range(0, 50).Count(_ => store.Acquire([layer.For("k")], statuses).IsAllowed);
        var over = store.Acquire([layer.For("k")], statuses);
        clock.Advance(TimeSpan.FromMilliseconds(100));
        var refilled = store.Acquire([layer.For("k")], statuses);
        var again = store.Acquire([layer.For("k")], statuses);

        Assert.Equal(50, burst);
        Assert.False(over.IsAllowed);
        Assert.Equal(TimeSpan.FromMilliseconds(100), over.RetryAfter);
        Assert.True(refilled.IsAllowed);
        Assert.False(again.IsAllowed);
        Assert.Equal(50, statuses[0].Limit);
    }

    [Fact]
    public void Options_Invalid_StopConstructionListingEveryProblem()
    {
        var options = new MemoryRateLimitStoreOptions { TimeProvider = null!, ShardsPerLayer = 3, SweepInterval = TimeSpan.Zero };

        var error = Assert.Throws<ArgumentException>(() => new MemoryRateLimitStore(options));

        Assert.Contains("TimeProvider", error.Message);
        Assert.Contains("ShardsPerLayer is 3", error.Message);
        Assert.Contains("SweepInterval", error.Message);
    }

    [Fact]
    public void Acquire_WithTooSmallAStatusBuffer_SaysHowManyItNeeds()
    {
        var store = CreateStore();
        var layer = RateLimitLayer.FixedWindow("writes", Rate.Parse("2/s"), Rate.Parse("15/min"));
        var statuses = new RateStatus[1];

        var error = Assert.Throws<ArgumentException>(() => store.Acquire([layer.For("d")], statuses));

        Assert.Contains("needs 2", error.Message);
    }

    [Fact]
    public void Acquire_NegativeCost_IsRejected()
    {
        var store = CreateStore();
        var layer = RateLimitLayer.FixedWindow("writes", Rate.Parse("2/s"));

        Assert.Throws<ArgumentOutOfRangeException>(() => store.Acquire([layer.For("d")], new RateStatus[1], -1));
    }

    [Fact]
    public void Acquire_WithNoLayers_IsAllowed()
    {
        var decision = CreateStore().Acquire([], []);

        Assert.True(decision.IsAllowed);
        Assert.Equal(0, decision.StatusCount);
    }

    [Fact]
    public void Acquire_ReadsTheClockOncePerDecision()
    {
        var clock = new CountingTimeProvider();
        var store = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock });
        var layers = new[]
        {
            RateLimitLayer.FixedWindow("ip", Rate.Parse("100/min")).For("a"),
            RateLimitLayer.FixedWindow("key", Rate.Parse("60/min")).For("b"),
            RateLimitLayer.SlidingWindow("route", Rate.Parse("3/15min")).For("c"),
        };
        var before = clock.Reads;

        store.Acquire(layers, new RateStatus[8]);

        Assert.Equal(1, clock.Reads - before);
    }

    [Fact]
    public async Task Acquire_TwoLayersInOneStripe_TakeTheGeneralPathWithoutWaitingOnThemselves()
    {
        // One stripe per layer: the second key's stripe is the one the first already holds. The lean path must let go
        // of it before the general path locks it, or the decision would wait on itself forever.
        var store = CreateStore(shards: 1);
        var domain = RateLimitLayer.FixedWindow("domain", Rate.Parse("2/min"));
        var other = RateLimitLayer.FixedWindow("other", Rate.Parse("5/min"));
        LayerKey[] request = [other.For("x"), domain.For("a.example"), domain.For("b.example")];

        var decisions = await Task.Run(() => Enumerable.Range(0, 3).Select(_ => store.Acquire(request, new RateStatus[3])).ToArray())
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(decisions[0].IsAllowed);
        Assert.True(decisions[1].IsAllowed);
        Assert.False(decisions[2].IsAllowed);
        var statuses = new RateStatus[3];
        store.Acquire(request, statuses, cost: 0);
        Assert.Equal([3, 0, 0], statuses.Select(s => s.Remaining));
    }

    [Fact]
    public void KeyFlood_OfAMillionDistinctKeys_StaysBoundedByTheKeysStillInsideAWindow()
    {
        var store = CreateStore();
        var layer = RateLimitLayer.FixedWindow("global-ip", Rate.Parse("100/min"));
        var statuses = new RateStatus[1];
        var layers = new LayerKey[1];
        long peakKeys = 0;
        long peakBytes = 0;

        for (var minute = 0; minute < 10; minute++)
        {
            for (var i = 0; i < 100_000; i++)
            {
                layers[0] = layer.For($"10.{minute}.{i >> 8}.{i & 255}");
                Assert.True(store.Acquire(layers, statuses).IsAllowed);
            }

            peakKeys = Math.Max(peakKeys, store.KeyCount);
            peakBytes = Math.Max(peakBytes, store.AllocatedBytes);
            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        // Each minute's 100,000 keys expire at the next minute boundary: at most two minutes' worth are ever held.
        Assert.InRange(peakKeys, 100_000, 200_000);
        Assert.True(peakBytes <= 200_000 * 64, $"peak {peakBytes} bytes for at most 200,000 live keys");
    }

    [Fact]
    public void KeyFlood_NeverResetsAKeyThatIsStillInsideItsWindow()
    {
        var store = CreateStore(shards: 1);
        var daily = RateLimitLayer.FixedWindow("daily", Rate.Parse("3/day"));
        var statuses = new RateStatus[1];
        for (var i = 0; i < 3; i++)
        {
            store.Acquire([daily.For("victim")], statuses);
        }

        for (var minute = 0; minute < 30; minute++)
        {
            for (var i = 0; i < 2_000; i++)
            {
                store.Acquire([daily.For($"flood-{minute}-{i}")], statuses, cost: 0);
                store.Acquire([RateLimitLayer.FixedWindow("daily", Rate.Parse("3/day")).For($"short-{minute}-{i}")], statuses);
            }

            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.False(store.Acquire([daily.For("victim")], statuses).IsAllowed);
    }

    [Fact]
    public void ExpiredKeys_AreReclaimedBySweep_WithoutNewKeysArriving()
    {
        var store = CreateStore(shards: 1);
        var layer = RateLimitLayer.FixedWindow("ip", Rate.Parse("5/s"));
        var statuses = new RateStatus[1];
        for (var i = 0; i < 1_000; i++)
        {
            store.Acquire([layer.For($"k{i}")], statuses);
        }

        _clock.Advance(TimeSpan.FromSeconds(11));
        store.Acquire([layer.For("k0")], statuses);

        Assert.Equal(1, store.KeyCount);
    }

    [Fact]
    public void BytesPerKey_ForAOneRateLayer_AreAtMost64()
    {
        var store = CreateStore();
        var layer = RateLimitLayer.FixedWindow("ip", Rate.Parse("100/min"));
        var statuses = new RateStatus[1];
        var layers = new LayerKey[1];
        foreach (var keys in new[] { 10_000, 100_000, 1_000_000 })
        {
            var fresh = CreateStore();
            for (var i = 0; i < keys; i++)
            {
                layers[0] = layer.For(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                fresh.Acquire(layers, statuses);
            }

            var perKey = (double)fresh.AllocatedBytes / keys;
            Assert.True(perKey <= 64, $"{perKey:F1} bytes per key at {keys} keys");
        }
    }

    [Fact]
    public void Release_WithoutALease_DoesNothing()
    {
        var store = CreateStore();
        var layer = RateLimitLayer.Concurrency("writes", 1);
        var statuses = new RateStatus[1];
        var held = store.Acquire([layer.For("d")], statuses);

        store.Release([layer.For("d")], 0);

        Assert.True(held.IsAllowed);
        Assert.False(store.Acquire([layer.For("d")], statuses).IsAllowed);
    }

    private sealed class CountingTimeProvider : TimeProvider
    {
        public int Reads;

        public override DateTimeOffset GetUtcNow()
        {
            Interlocked.Increment(ref Reads);
            return ManualTimeProvider.DefaultStart;
        }
    }
}
