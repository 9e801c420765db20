using Sluice.Redis.Scripts;
using StackExchange.Redis;

namespace Sluice.Redis.Tests;

public sealed class RedisRateLimitStoreTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static Rate R(string text) => Rate.Parse(text);

    private RedisRateLimitStore Store(string prefix, TimeProvider? time = null, bool serverTime = true, Action<RedisRateLimitStoreOptions>? configure = null)
    {
        var options = new RedisRateLimitStoreOptions
        {
            Configuration = redis.Configuration,
            KeyPrefix = prefix,
            UseServerTime = serverTime,
            TimeProvider = time ?? TimeProvider.System,
            Timeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return new RedisRateLimitStore(options);
    }

    private static string Prefix() => "t-" + Guid.NewGuid().ToString("N")[..8] + ":";

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public async Task ASlidingLayerOfManyRatesOfAThousandSegments_IsDecidedInRedis_AsInMemory(int rateCount)
    {
        // The reference server's per-domain layer is 4 rates of 1,000 segments: its first write named ~8,000 hash values,
        // more than Lua unpacks into one call, so the script failed and every such decision fell back.
        string[] texts = ["2/s", "15/min", "100/h", "300/day", "400/2day", "500/3day", "600/4day", "700/5day"];
        var layer = new RateLimitLayer("writes", RateLimitAlgorithm.SlidingWindow, texts.Take(rateCount).Select(R), shadow: false, slidingWindowSegments: 1000);
        var clock = new ManualTimeProvider();
        using var store = Store(Prefix(), clock, serverTime: false);
        var memory = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock });

        for (var step = 0; step < 8; step++)
        {
            await using var inRedis = await store.AcquireAsync(layer.For("example.com"));
            await using var inMemory = await memory.AcquireAsync(layer.For("example.com"));

            Assert.Equal(inMemory.IsAllowed, inRedis.IsAllowed);
            Assert.Equal(inMemory.Statuses.Select(s => (s.Remaining, s.ResetAt, s.RetryAfter, s.Outcome)), inRedis.Statuses.Select(s => (s.Remaining, s.ResetAt, s.RetryAfter, s.Outcome)));
            clock.Advance(TimeSpan.FromMilliseconds(step % 3 == 2 ? 1500 : 200));
        }

        Assert.Equal(0, store.FallbackCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASlidingLayersHash_HoldsOnlyTheSegmentsWithACountInItsWindow(bool throughTheGeneralPath)
    {
        // 1,000 segments of 1 ms for 100/s, one request every 30 ms: of the 1,001 segments of the window, 34 have a
        // count (the one just charged and the 33 before it within the second); older ones are deleted as the window
        // moves on. A concurrency layer beside it sends the decision through the script's general path.
        var prefix = Prefix();
        var layer = new RateLimitLayer("writes", RateLimitAlgorithm.SlidingWindow, [R("100/s")], shadow: false, slidingWindowSegments: 1000);
        var clock = new ManualTimeProvider();
        using var store = Store(prefix, clock, serverTime: false);
        LayerKey[] layers = throughTheGeneralPath
            ? [layer.For("example.com"), RateLimitLayer.Concurrency("in-flight", 1000).For("example.com")]
            : [layer.For("example.com")];

        for (var i = 0; i < 200; i++)
        {
            await using var lease = await store.AcquireAsync(layers);
            Assert.True(lease.IsAllowed);
            clock.Advance(TimeSpan.FromMilliseconds(30));
        }

        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var fields = await connection.GetDatabase().HashKeysAsync(prefix + "writes:w1000:example.com");
        Assert.Equal(34 + 1, fields.Length);
        Assert.Contains(fields, f => f == "n0");
        Assert.Equal(0, store.FallbackCount);
    }

    [Fact]
    public async Task CallersThatGiveUp_DoNotOpenTheCircuit()
    {
        using var store = Store(Prefix(), configure: o => o.FailuresToBreak = 3);
        var layer = RateLimitLayer.FixedWindow("ip", R("100/min"));
        var fallbacks = await ConnectedAsync(store);
        for (var i = 0; i < 3; i++)
        {
            await GiveUpAsync(store, n => layer.For("k" + n));
        }

        var after = await store.AcquireAsync(layer.For("k"));

        // A client that disconnects says nothing about Redis: the decision after three of them is Redis's, not the
        // fallback's (counted as failures, the three would have opened the circuit).
        Assert.True(after.IsAllowed);
        Assert.Equal(fallbacks, store.FallbackCount);
    }

    [Fact]
    public async Task APermitTakenForACallerThatGaveUp_IsReturned()
    {
        using var store = Store(Prefix());
        var writes = RateLimitLayer.Concurrency("writes", 1);
        await ConnectedAsync(store);

        // The script is sent, then the wait for it is cancelled: Redis still takes the permit, for its 5-minute lifetime
        // unless the store returns it. Later decisions go out on the same connection, after that script.
        var domain = await GiveUpAsync(store, n => writes.For("example" + n + ".com"));
        var allowed = false;
        for (var attempt = 0; attempt < 250 && !allowed; attempt++)
        {
            await using var next = await store.AcquireAsync(domain);
            allowed = next.IsAllowed;
            await Task.Delay(allowed ? 0 : 20);
        }

        Assert.True(allowed);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    public async Task ACountChargedForACallerThatGaveUp_IsGivenBack(RateLimitAlgorithm algorithm)
    {
        using var store = Store(Prefix());
        var layer = new RateLimitLayer("api-key", algorithm, R("2/min"));
        await ConnectedAsync(store);

        // The script is sent and charges the request in Redis; the caller is gone, so the request is not served and
        // must not count.
        var key = await GiveUpAsync(store, n => layer.For("k" + n));
        var remaining = await RemainingOnceGivenBackAsync(store, key, 2);

        Assert.Equal(2, remaining);
    }

    [Fact]
    public async Task ACountChargedByADecisionThatTimedOut_IsGivenBack_WhenTheStoreFailsClosed()
    {
        using var store = Store(Prefix(), configure: o =>
        {
            o.Timeout = TimeSpan.FromMilliseconds(100);
            o.FailureMode = RedisFailureMode.FailClosed;
        });
        var layer = RateLimitLayer.FixedWindow("api-key", R("2/min"));
        await ConnectedAsync(store);

        // Redis answers no command for 0.6 s: the decision gives up at 0.1 s and the request is refused with a 503; the
        // script still runs when the pause ends and charges it.
        await redis.Admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "600");
        await Assert.ThrowsAsync<RateLimitStoreUnavailableException>(async () => await store.AcquireAsync(layer.For("k")));
        var remaining = await RemainingOnceGivenBackAsync(store, layer.For("k"), 2);

        Assert.Equal(2, remaining);
    }

    /// <summary>
    /// Peeks (cost 0) at the key's remaining count in Redis until it is <paramref name="expected"/> or 10 s have passed
    /// (a store that fails closed refuses while Redis is paused, then while its breaker is open); returns the last seen.
    /// </summary>
    private static async Task<long> RemainingOnceGivenBackAsync(RedisRateLimitStore store, LayerKey layer, long expected)
    {
        var remaining = -1L;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (remaining != expected && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                var fallbacks = store.FallbackCount;
                var peek = await store.AcquireAsync(0, layer);
                remaining = store.FallbackCount == fallbacks ? peek.Statuses[0].Remaining : -1;
            }
            catch (RateLimitStoreUnavailableException)
            {
                remaining = -1;
            }

            await Task.Delay(remaining == expected ? 0 : 20);
        }

        return remaining;
    }

    /// <summary>
    /// Decides until Redis (not the fallback) answers, so that a test starts on an open connection with the circuit
    /// closed (the first command of a fresh server can be refused while it connects); returns the fallbacks so far.
    /// </summary>
    private static async Task<long> ConnectedAsync(RedisRateLimitStore store)
    {
        var warm = RateLimitLayer.FixedWindow("warm-up", Rate.Parse("1000/s"));
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var before = store.FallbackCount;
            await store.AcquireAsync(warm.For("w"));
            if (store.FallbackCount == before)
            {
                return before;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"Redis never answered: {store.LastError}");
    }

    /// <summary>
    /// Sends a decision for <c>layerFor(n)</c> whose caller has already given up, until one is cancelled (n = 0, 1, …): on
    /// a loaded machine Redis's answer can arrive before the store waits for it, and then the decision is simply made.
    /// Returns the layer and key of the cancelled one.
    /// </summary>
    private static async Task<LayerKey> GiveUpAsync(RedisRateLimitStore store, Func<int, LayerKey> layerFor)
    {
        using var gaveUp = new CancellationTokenSource();
        await gaveUp.CancelAsync();
        for (var n = 0; n < 20; n++)
        {
            try
            {
                await store.AcquireAsync(new[] { layerFor(n) }, new RateStatus[RateLimitStore.GetStatusCapacity(1)], 1, gaveUp.Token);
            }
            catch (OperationCanceledException)
            {
                return layerFor(n);
            }
        }

        throw new Xunit.Sdk.XunitException("Twenty decisions of a caller that had given up were all answered before the store waited.");
    }

    [Fact]
    public void Options_Ctor_EnsureDefaults()
    {
        var options = new RedisRateLimitStoreOptions();

        Assert.Equal("127.0.0.1:6379", options.Configuration);
        Assert.Equal("sluice:", options.KeyPrefix);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Timeout);
        Assert.Equal(RedisFailureMode.FailOpen, options.FailureMode);
        Assert.Equal(3, options.FailuresToBreak);
        Assert.Equal(TimeSpan.FromSeconds(2), options.BreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(1), options.OverrideRefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), options.KeyTtlPadding);
        Assert.True(options.UseServerTime);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public void Options_Invalid_ListEveryProblem()
    {
        var options = new RedisRateLimitStoreOptions { Configuration = " ", Timeout = TimeSpan.Zero, FailuresToBreak = 0 };

        var error = Assert.Throws<ArgumentException>(() => new RedisRateLimitStore(options));

        Assert.Contains("Configuration is empty", error.Message);
        Assert.Contains("Timeout", error.Message);
        Assert.Contains("FailuresToBreak", error.Message);
    }

    [Fact]
    public async Task EveryDecision_IsExactlyOneEvalsha_WhateverTheNumberOfLayers()
    {
        using var store = Store(Prefix());
        var layers = new[]
        {
            RateLimitLayer.FixedWindow("ip", R("100/min")).For("1.2.3.4"),
            RateLimitLayer.FixedWindow("key", R("60/min")).For("k"),
            new RateLimitLayer("dns", RateLimitAlgorithm.SlidingWindow, [R("2/s"), R("15/min"), R("100/h"), R("300/day")], shadow: false).For("example.com"),
            RateLimitLayer.TokenBucket("burst", R("10/s")).For("k"),
        };
        await store.AcquireAsync(layers);
        var before = await redis.EvalshaCallsAsync();

        for (var i = 0; i < 25; i++)
        {
            await store.AcquireAsync(layers);
        }

        Assert.Equal(25, await redis.EvalshaCallsAsync() - before);
    }

    [Fact]
    public async Task ThreeInstancesWithTheirOwnConnections_HammeringOneKey_AdmitExactlyTheLimit()
    {
        var prefix = Prefix();
        var stores = Enumerable.Range(0, 3).Select(_ => Store(prefix)).ToArray();
        var layer = RateLimitLayer.FixedWindow("hot", R("50/h"));
        var admitted = 0;
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 32).Select(task => Task.Run(async () =>
            {
                var store = stores[task % 3];
                for (var i = 0; i < 10; i++)
                {
                    if ((await store.AcquireAsync(layer.For("one-key"))).IsAllowed)
                    {
                        Interlocked.Increment(ref admitted);
                    }
                }
            })));
        }
        finally
        {
            foreach (var store in stores)
            {
                store.Dispose();
            }
        }

        Assert.Equal(50, admitted);
    }

    [Fact]
    public async Task InstancesWithSkewedClocks_AgreeOnTheServersTime()
    {
        var prefix = Prefix();
        // Both local clocks are wrong, one by three hours: the decision uses the server's TIME.
        var early = new ManualTimeProvider(ManualTimeProvider.DefaultStart);
        var late = new ManualTimeProvider(ManualTimeProvider.DefaultStart.AddHours(3));
        using var a = Store(prefix, early);
        using var b = Store(prefix, late);
        var layer = RateLimitLayer.FixedWindow("skew", R("1/day"));

        var first = await a.AcquireAsync(layer.For("k"));
        var second = await b.AcquireAsync(layer.For("k"));

        Assert.True(first.IsAllowed);
        Assert.False(second.IsAllowed);
    }

    [Fact]
    public async Task OnTheServersTime_ADecisionIsDatedByTheServer_NotByAWrongLocalClock()
    {
        // The local clock is three years behind: the time to the window's reset still comes out within the window.
        // The real clock is the reference here: it is the one the loopback redis-server's TIME reads.
        var real = TimeProvider.System.GetUtcNow();
        using var store = Store(Prefix(), new ManualTimeProvider(real.AddYears(-3)));
        var layer = RateLimitLayer.FixedWindow("dated", R("5/min"));

        var result = await store.AcquireAsync(layer.For("k"));
        var decidedAt = result.Decision.DecidedAt!.Value;

        Assert.InRange(decidedAt, real.AddMinutes(-1), real.AddMinutes(1));
        Assert.InRange(result.Statuses[0].ResetAt - decidedAt, TimeSpan.FromTicks(1), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task EveryKey_CarriesATtlCoveringItsWindow()
    {
        var prefix = Prefix();
        using var store = Store(prefix);
        await store.AcquireAsync(
            RateLimitLayer.FixedWindow("f", R("10/min")).For("k"),
            RateLimitLayer.SlidingWindow("s", R("10/h")).For("k"),
            RateLimitLayer.TokenBucket("t", R("10/h")).For("k"),
            RateLimitLayer.Concurrency("c", 2, TimeSpan.FromMinutes(5)).For("k"));
        var server = redis.Admin.GetServer("127.0.0.1", redis.Port);
        var database = redis.Admin.GetDatabase();

        var keys = server.Keys(pattern: prefix + "*").Select(k => (string)k!).Where(k => !k.Contains("overrides", StringComparison.Ordinal)).ToList();

        Assert.Equal(4, keys.Count);
        foreach (var key in keys)
        {
            var ttl = await database.KeyTimeToLiveAsync(key);
            Assert.True(ttl > TimeSpan.Zero, $"{key} has no TTL");
            // A sliding window keeps its oldest segment: up to (segments + 1) segment widths, 1.1 h here.
            Assert.True(ttl <= TimeSpan.FromHours(1.1) + TimeSpan.FromSeconds(2), $"{key} lives {ttl}");
        }
    }

    [Fact]
    public async Task AFixedWindowsKey_KeepsATtlCoveringItsWindow_ThroughChargesInIt_AndGetsANewOneInTheNext()
    {
        var prefix = Prefix();
        var clock = new ManualTimeProvider();
        using var store = Store(prefix, clock, serverTime: false, configure: o => o.KeyTtlPadding = TimeSpan.Zero);
        await ConnectedAsync(store);
        var layer = RateLimitLayer.FixedWindow("f", R("100/min"));
        var database = redis.Admin.GetDatabase();
        var key = prefix + "f:f:k";

        // Charges at 00:40, 00:45 and 00:50 of one minute: the key must live at least until 01:00.
        clock.Advance(TimeSpan.FromSeconds(40));
        await store.AcquireAsync(layer.For("k"));
        clock.Advance(TimeSpan.FromSeconds(5));
        await store.AcquireAsync(layer.For("k"));
        clock.Advance(TimeSpan.FromSeconds(5));
        var third = await store.AcquireAsync(layer.For("k"));
        var inTheFirst = await database.KeyTimeToLiveAsync(key);

        // 01:01, the next minute: a count of its own, and a TTL to 02:00, not the first minute's.
        clock.Advance(TimeSpan.FromSeconds(11));
        var next = await store.AcquireAsync(layer.For("k"));
        var inTheNext = await database.KeyTimeToLiveAsync(key);

        Assert.Equal(97, third.Statuses[0].Remaining);
        Assert.InRange(inTheFirst!.Value, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        Assert.Equal(99, next.Statuses[0].Remaining);
        Assert.InRange(inTheNext!.Value, TimeSpan.FromSeconds(55), TimeSpan.FromSeconds(59));
    }

    [Theory]
    [InlineData("10/min")]
    [InlineData("10/min", "100/h")]
    public async Task AFixedWindowsKey_LivesUntilItsWindowEnds_PlusThePadding(params string[] rates)
    {
        var prefix = Prefix();
        var clock = new ManualTimeProvider();
        using var store = Store(prefix, clock, serverTime: false, configure: o => o.KeyTtlPadding = TimeSpan.FromSeconds(5));
        await ConnectedAsync(store);
        var layer = RateLimitLayer.FixedWindow("f", [.. rates.Select(R)]);

        // At 00:40 of a minute (one rate: the script's one-rate path; two: its early path), then again in that minute,
        // which keeps the TTL the first write set.
        clock.Advance(TimeSpan.FromSeconds(40));
        await store.AcquireAsync(layer.For("k"));
        clock.Advance(TimeSpan.FromSeconds(1));
        await store.AcquireAsync(layer.For("k"));
        var ttl = await redis.Admin.GetDatabase().KeyTimeToLiveAsync(prefix + "f:f:k");

        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(20 + 5 - 2), TimeSpan.FromSeconds(20 + 5));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task WhereSetKeepTtlIsRefused_AChargeInAWindowThatGoesOn_IsWrittenWithItsTtlInstead(int rates)
    {
        // Redis below 6.0 refuses SET ... KEEPTTL; the script then writes with PX as on a window's first charge. The
        // script is run here with an option no Redis knows in KEEPTTL's place, so that the fallback is what runs.
        var script = DecideScript.Text.Replace("'KEEPTTL'", "'NOSUCHOPTION'", StringComparison.Ordinal);
        Assert.NotEqual(DecideScript.Text, script);
        var database = redis.Admin.GetDatabase();
        var key = Prefix() + "f";
        var minute = 60_000_000L;
        var start = 483_000L * 60 * minute;
        RedisValue[] Arguments(long now)
        {
            // now, cost, lease member, TTL padding (ms); the layer: fixed window, not shadow, 1 segment, its rates
            // (limit, period in microseconds): 10/min, and 100/h for the script's early path.
            List<RedisValue> values = [now, 1, "", 5000, 1, 0, 1, rates, 10, minute];
            if (rates == 2)
            {
                values.AddRange([100, 60 * minute]);
            }

            return [.. values];
        }

        await database.ScriptEvaluateAsync(script, [key], Arguments(start + 40_000_000));
        var second = (RedisResult[])(await database.ScriptEvaluateAsync(script, [key], Arguments(start + 41_000_000)))!;

        Assert.Equal(1, (int)second[0]);
        Assert.Equal(8, (int)second[2]);
        foreach (var name in rates == 1 ? [key] : new[] { key, key + "#1" })
        {
            Assert.EndsWith(":2", (string?)await database.StringGetAsync(name), StringComparison.Ordinal);
            var ttl = await database.KeyTimeToLiveAsync(name);
            var untilEnd = name == key ? TimeSpan.FromSeconds(19) : TimeSpan.FromMinutes(60) - TimeSpan.FromSeconds(41);
            Assert.InRange(ttl!.Value, untilEnd + TimeSpan.FromSeconds(5 - 2), untilEnd + TimeSpan.FromSeconds(5));
        }
    }

    [Theory]
    [InlineData(new[] { "10/min" }, 18)]
    [InlineData(new[] { "10/min", "100/h" }, 108)]
    public async Task ATokenBucketsKey_LivesUntilTheBucketIsFullAgain_PlusThePadding(string[] rates, int secondsUntilFull)
    {
        var prefix = Prefix();
        var clock = new ManualTimeProvider();
        using var store = Store(prefix, clock, serverTime: false, configure: o => o.KeyTtlPadding = TimeSpan.FromSeconds(5));
        await ConnectedAsync(store);
        var layer = RateLimitLayer.TokenBucket("t", [.. rates.Select(R)]);

        // A cost of 3 takes 3 tokens: 10/min refills one every 6 s (full again in 18 s), 100/h one every 36 s (108 s).
        await store.AcquireAsync(3, layer.For("k"));
        var ttl = await redis.Admin.GetDatabase().KeyTimeToLiveAsync(prefix + "t:t:k");

        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(secondsUntilFull + 5 - 1), TimeSpan.FromSeconds(secondsUntilFull + 5));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    public async Task UsageCarriedIntoALongerWindow_IsKeptAsLongAsThatWindow_EvenWhenTheReadIsDenied(RateLimitAlgorithm algorithm)
    {
        var prefix = Prefix();
        var clock = new ManualTimeProvider();
        using var store = Store(prefix, clock, serverTime: false, configure: o => o.KeyTtlPadding = TimeSpan.Zero);
        await ConnectedAsync(store);
        var perSecond = new RateLimitLayer("api-key", algorithm, R("5/s"));
        for (var i = 0; i < 4; i++)
        {
            await store.AcquireAsync(perSecond.For("k"));
        }

        // Reloaded as 2/h: the second's 4 now count in the hour, so the key is denied, and nothing is charged; the key
        // written for a second's state must not expire after that second and hand the client a fresh hour.
        var perHour = new RateLimitLayer("api-key", algorithm, R("2/h"));
        var denied = await store.AcquireAsync(perHour.For("k"));
        var server = redis.Admin.GetServer("127.0.0.1", redis.Port);
        var key = server.Keys(pattern: prefix + "api-key:*").Select(k => (string)k!).Single();
        var ttl = await redis.Admin.GetDatabase().KeyTimeToLiveAsync(key);

        Assert.False(denied.IsAllowed);
        Assert.Equal(0, denied.Statuses[0].Remaining);
        Assert.True(ttl > TimeSpan.FromMinutes(1), $"{key} lives {ttl}");
    }

    [Fact]
    public async Task AnOverrideSetOnOneInstance_IsInForceOnAnother_AfterItsRefresh()
    {
        var prefix = Prefix();
        using var a = Store(prefix);
        using var b = Store(prefix, configure: o => o.OverrideRefreshInterval = TimeSpan.FromHours(1));
        var layer = RateLimitLayer.FixedWindow("api-key", R("1/min"));
        await b.RefreshOverridesAsync();

        await a.SetOverrideAsync(layer, "vip", [R("600/min")]);
        await b.RefreshOverridesAsync();
        var result = await b.AcquireAsync(layer.For("vip"));

        Assert.Equal(600, result.Statuses[0].Limit);
        Assert.Equal([R("600/min")], await b.GetOverrideAsync(layer, "vip"));
    }

    [Fact]
    public async Task AFlushedScriptCache_IsLoadedAgain()
    {
        using var store = Store(Prefix());
        var layer = RateLimitLayer.FixedWindow("ip", R("10/min"));
        await store.AcquireAsync(layer.For("k"));

        await redis.Admin.GetServer("127.0.0.1", redis.Port).ScriptFlushAsync();
        var result = await store.AcquireAsync(layer.For("k"));

        Assert.True(result.IsAllowed);
        Assert.Equal(8, result.Statuses[0].Remaining);
        Assert.True(store.IsUsingRedis);
    }

    [Fact]
    public async Task ConnectingLoadsTheScript_SoTheFirstDecisionIsOneEvalshaWithoutARetry()
    {
        var server = redis.Admin.GetServer("127.0.0.1", redis.Port);
        await server.ScriptFlushAsync();
        using var store = Store(Prefix());
        // A real connection coming up: real time, bounded.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!store.IsUsingRedis && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        var loaded = await server.ScriptExistsAsync(Scripts.DecideScript.Sha1);
        var evalsha = await redis.CommandCallsAsync("evalsha");
        var scriptCommands = await redis.CommandCallsAsync("script|load");
        var result = await store.AcquireAsync(RateLimitLayer.FixedWindow("ip", R("10/min")).For("k"));

        Assert.True(store.IsUsingRedis);
        Assert.True(loaded);
        Assert.True(result.IsAllowed);
        Assert.Equal(1, await redis.CommandCallsAsync("evalsha") - evalsha);
        Assert.Equal(scriptCommands, await redis.CommandCallsAsync("script|load"));
    }

    [Fact]
    public async Task ALeaseOnSeveralConcurrencyLayers_IsReturnedToAllOfThem_InOneScript()
    {
        var prefix = Prefix();
        using var store = Store(prefix);
        LayerKey[] layers =
        [
            RateLimitLayer.Concurrency("domain-writes", 1, TimeSpan.FromSeconds(30)).For("example.com"),
            RateLimitLayer.FixedWindow("ip", R("100/min")).For("1.2.3.4"),
            RateLimitLayer.Concurrency("account-writes", 2, TimeSpan.FromSeconds(30)).For("acct-1"),
        ];
        var held = await store.AcquireAsync(layers);
        var commands = await CommandCounts();

        await held.DisposeAsync();
        var after = await CommandCounts();
        var domainHolders = await redis.Admin.GetDatabase().SortedSetLengthAsync(prefix + "domain-writes:c:example.com");
        var accountHolders = await redis.Admin.GetDatabase().SortedSetLengthAsync(prefix + "account-writes:c:acct-1");
        var again = await store.AcquireAsync(layers);

        Assert.True(held.IsAllowed);
        Assert.Equal(0, domainHolders);
        Assert.Equal(0, accountHolders);
        // One script call; the two ZREMs Redis counts are the script's own.
        Assert.Equal(1, (after[1] + after[2]) - (commands[1] + commands[2]));
        Assert.Equal(2, after[0] - commands[0]);
        Assert.True(again.IsAllowed);
    }

    private async Task<long[]> CommandCounts() =>
        [await redis.CommandCallsAsync("zrem"), await redis.CommandCallsAsync("eval"), await redis.CommandCallsAsync("evalsha")];

    [Fact]
    public async Task ConcurrencyLeases_OfACrashedInstance_ExpireAfterTheirLifetime()
    {
        var prefix = Prefix();
        var clock = new ManualTimeProvider();
        var layer = RateLimitLayer.Concurrency("writes", 1, TimeSpan.FromSeconds(30));
        using (var crashed = Store(prefix, clock, serverTime: false))
        {
            Assert.True((await crashed.AcquireAsync(layer.For("d"))).IsAllowed);
        }

        using var survivor = Store(prefix, clock, serverTime: false);
        var meanwhile = await survivor.AcquireAsync(layer.For("d"));
        clock.Advance(TimeSpan.FromSeconds(30));
        var after = await survivor.AcquireAsync(layer.For("d"));

        Assert.False(meanwhile.IsAllowed);
        Assert.True(after.IsAllowed);
    }
}
