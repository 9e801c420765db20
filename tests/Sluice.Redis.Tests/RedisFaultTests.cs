namespace Sluice.Redis.Tests;

/// <summary>
/// Stops and restarts a redis-server of its own under load. Waits are polls with deadlines: a reconnect happens in
/// real time, which no fake clock can move.
/// </summary>
public sealed class RedisFaultTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    private RedisRateLimitStore Store(RedisFailureMode mode) => new(new RedisRateLimitStoreOptions
    {
        Configuration = _redis.Configuration,
        KeyPrefix = "faults:",
        Timeout = TimeSpan.FromMilliseconds(200),
        FailuresToBreak = 2,
        BreakDuration = TimeSpan.FromMilliseconds(300),
        FailureMode = mode,
    });

    private static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan within)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < within)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    [Fact]
    public async Task RedisStoppingUnderLoad_FallsBackLocallyWithoutAnException_AndRedisIsUsedAgainWhenBack()
    {
        using var store = Store(RedisFailureMode.FailOpen);
        // Fallback decisions are sub-microsecond: a limit the load cannot reach in a minute.
        var layer = RateLimitLayer.FixedWindow("ip", new Rate(Rate.MaxLimit, TimeSpan.FromMinutes(1)));
        var errors = 0;
        Exception? firstError = null;
        var decisions = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Assert.True((await store.AcquireAsync(layer.For("k"))).IsAllowed);
                    Interlocked.Increment(ref decisions);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref firstError, e, null);
                    Interlocked.Increment(ref errors);
                }

                // Fallback decisions complete synchronously: yield so that the load cannot starve the thread pool
                // (a server interleaves requests with I/O the same way).
                await Task.Yield();
            }
        })));

        await Eventually(() => Task.FromResult(decisions > 200), TimeSpan.FromSeconds(10));
        await _redis.StopAsync();
        var fellBack = await Eventually(() => Task.FromResult(!store.IsUsingRedis), TimeSpan.FromSeconds(10));
        var beforeRestart = decisions;
        await Eventually(() => Task.FromResult(decisions > beforeRestart + 200), TimeSpan.FromSeconds(10));
        await _redis.StartAsync();
        var recovered = await Eventually(async () => store.IsUsingRedis && await _redis.EvalshaCallsAsync() > 50, TimeSpan.FromSeconds(15));
        stop.Cancel();
        await load;

        Assert.True(fellBack, "the store never noticed Redis was down");
        Assert.True(recovered, "the store did not use Redis again within 15 seconds of its restart");
        Assert.True(errors == 0, $"{errors} decisions failed; the first: {firstError}");
    }

    [Fact]
    public async Task RedisSlowerThanTheTimeout_FallsBackAtTheTimeout_ThenTheBreakerStopsWaitingForIt()
    {
        using var store = Store(RedisFailureMode.FailOpen);
        var layer = RateLimitLayer.FixedWindow("ip", Rate.Parse("10/min"));
        Assert.True((await store.AcquireAsync(layer.For("k"))).IsAllowed);
        Assert.True(store.IsUsingRedis);

        // Redis stays up and keeps the connection, but answers no command for 3 s: slow, not down.
        await _redis.Admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "3000");
        var paused = System.Diagnostics.Stopwatch.StartNew();

        // Two decisions each wait the 200 ms timeout, then decide locally; neither waits for the pause to end.
        for (var i = 0; i < 2; i++)
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            Assert.True((await store.AcquireAsync(layer.For("k"))).IsAllowed);
            Assert.True(waited.Elapsed >= TimeSpan.FromMilliseconds(150), $"decision {i} returned after {waited.Elapsed}, before the timeout");
        }

        Assert.True(paused.Elapsed < TimeSpan.FromMilliseconds(2500), $"the decisions waited {paused.Elapsed}: the timeout did not end them");
        Assert.IsType<TimeoutException>(store.LastError);

        // The breaker is open: the next decision is made locally without waiting at all.
        Assert.False(store.IsUsingRedis);
        var pending = store.AcquireAsync(layer.For("k"));
        Assert.True(pending.IsCompleted);
        Assert.True((await pending).IsAllowed);

        // The pause ends; after the break the store tries Redis again and stays with it.
        var recovered = await Eventually(async () => { await store.AcquireAsync(layer.For("k")); return store.IsUsingRedis; }, TimeSpan.FromSeconds(10));
        Assert.True(recovered, "the store did not use Redis again after the pause");
    }

    [Fact]
    public async Task FailClosed_RefusesWithRetryAfter_WhileRedisIsDown()
    {
        using var store = Store(RedisFailureMode.FailClosed);
        var layer = RateLimitLayer.FixedWindow("ip", Rate.Parse("10/min"));
        Assert.True((await store.AcquireAsync(layer.For("k"))).IsAllowed);

        await _redis.StopAsync();
        var error = await Assert.ThrowsAsync<RateLimitStoreUnavailableException>(async () => await store.AcquireAsync(layer.For("k")));

        Assert.True(error.RetryAfter > TimeSpan.Zero);
        var health = await new RedisRateLimitStoreHealthCheck(store).CheckHealthAsync(new());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, health.Status);
    }

    [Fact]
    public async Task FailClosed_TheRateLimiterAdapterRefusesWithTheStoresRetryAfter_WhileRedisIsDown()
    {
        using var store = Store(RedisFailureMode.FailClosed);
        using var limiter = new Sluice.RateLimiting.SluiceRateLimiter(store, [RateLimitLayer.FixedWindow("ip", Rate.Parse("10/min")).For("k")]);
        Assert.True((await limiter.AcquireAsync()).IsAcquired);

        await _redis.StopAsync();
        using var lease = await limiter.AcquireAsync();

        Assert.False(lease.IsAcquired);
        Assert.True(lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.True(lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.ReasonPhrase, out var reason));
        Assert.StartsWith("The rate-limit store is unavailable", reason);
    }

    [Fact]
    public async Task ARedisOutOfMemory_IsAFailureLikeAnyOther_FallingBackWithoutAnException_UntilItHasRoomAgain()
    {
        using var store = Store(RedisFailureMode.FailOpen);
        var layer = RateLimitLayer.FixedWindow("ip", Rate.Parse("10/min"));
        var server = _redis.Admin.GetServer("127.0.0.1", _redis.Port);
        Assert.True((await store.AcquireAsync(layer.For("k"))).IsAllowed);

        // Full, and told to refuse writes rather than evict: every decision's script fails with OOM.
        await server.ConfigSetAsync("maxmemory-policy", "noeviction");
        await server.ConfigSetAsync("maxmemory", "1");
        var full = await store.AcquireAsync(layer.For("k"));
        var fallbacks = store.FallbackCount;
        await server.ConfigSetAsync("maxmemory", "0");
        // Back when a decision is counted in Redis again: the key's count passes the 1 it held before Redis was full.
        var back = await Eventually(
            async () =>
            {
                await store.AcquireAsync(layer.For("k"));
                var value = (string?)await _redis.Admin.GetDatabase().StringGetAsync("faults:ip:f:k");
                return value is not null && long.Parse(value.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture) >= 2;
            },
            TimeSpan.FromSeconds(10));

        Assert.True(full.IsAllowed);
        Assert.True(fallbacks > 0);
        Assert.Contains("OOM", store.LastError?.Message, StringComparison.Ordinal);
        Assert.True(back);
    }
}
