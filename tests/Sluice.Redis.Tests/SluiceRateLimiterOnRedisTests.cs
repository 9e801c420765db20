using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.RateLimiting;

namespace Sluice.Redis.Tests;

/// <summary>Sluice's <see cref="RateLimiter"/> adapters over a real redis-server: decided there, shared by every process.</summary>
public sealed class SluiceRateLimiterOnRedisTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private readonly ManualTimeProvider _clock = new();
    private readonly string _prefix = RedisContractStores.UniqueName("limiter") + ":";

    private RedisRateLimitStore Store() => new(new RedisRateLimitStoreOptions
    {
        Configuration = redis.Configuration,
        KeyPrefix = _prefix,
        UseServerTime = false,
        TimeProvider = _clock,
        Timeout = TimeSpan.FromSeconds(5),
        KeyTtlPadding = TimeSpan.FromMinutes(10),
    });

    [Fact]
    public async Task AttemptAcquire_OnRedis_IsRefusedWithoutDeciding_AndAcquireAsyncDecides()
    {
        using var store = Store();
        using var limiter = new SluiceRateLimiter(store, [RateLimitLayer.FixedWindow("api-key", Rate.Parse("2/min")).For("key-1")]);
        var evalshaBefore = await redis.EvalshaCallsAsync();

        using var attempted = limiter.AttemptAcquire();
        var evalshaAfterAttempt = await redis.EvalshaCallsAsync();
        using var first = await limiter.AcquireAsync();
        using var second = await limiter.AcquireAsync();
        using var third = await limiter.AcquireAsync();

        Assert.False(attempted.IsAcquired);
        Assert.True(attempted.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Contains("AcquireAsync", reason);
        Assert.Equal(evalshaBefore, evalshaAfterAttempt);
        Assert.True(first.IsAcquired);
        Assert.True(second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.True(third.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(1), retryAfter);
        Assert.Null(limiter.GetStatistics());
        Assert.Equal(0, store.FallbackCount);
    }

    [Fact]
    public async Task LimitersOnTwoConnections_ShareOneCount()
    {
        using var storeA = Store();
        using var storeB = Store();
        var layer = RateLimitLayer.FixedWindow("api-key", Rate.Parse("3/min"));
        using var a = new SluicePartitionedRateLimiter<string>(storeA, [new(layer, key => key)]);
        using var b = new SluicePartitionedRateLimiter<string>(storeB, [new(layer, key => key)]);

        var acquired = 0;
        for (var i = 0; i < 6; i++)
        {
            using var lease = await (i % 2 == 0 ? a : b).AcquireAsync("shared-key");
            acquired += lease.IsAcquired ? 1 : 0;
        }

        Assert.Equal(3, acquired);
        Assert.Equal(0, storeA.FallbackCount + storeB.FallbackCount);
    }

    [Fact]
    public async Task AConcurrencyLease_ReturnsItsPermitToRedisWhenDisposed()
    {
        using var store = Store();
        using var limiter = new SluiceRateLimiter(store, [RateLimitLayer.Concurrency("writes", 1).For("example.com")]);

        var held = await limiter.AcquireAsync();
        using var whileHeld = await limiter.AcquireAsync();
        held.Dispose();

        // The permit goes back over the network in the background: poll with a deadline.
        var reacquired = false;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!reacquired && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            using var lease = await limiter.AcquireAsync();
            reacquired = lease.IsAcquired;
            if (!reacquired)
            {
                await Task.Delay(20);
            }
        }

        Assert.True(held.IsAcquired);
        Assert.False(whileHeld.IsAcquired);
        Assert.True(reacquired, "the permit was not returned within 10 s");
    }

    [Fact]
    public async Task AsTheGlobalLimiterOfTheBuiltInMiddleware_TwoInstancesShareOneLimitOnRedis()
    {
        using var storeA = Store();
        using var storeB = Store();
        await using var a = await StartAsync(storeA);
        await using var b = await StartAsync(storeB);
        var clientA = a.GetTestClient();
        var clientB = b.GetTestClient();

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            codes.Add((await (i % 2 == 0 ? clientA : clientB).GetAsync("/ping")).StatusCode);
        }

        var denied = await clientB.GetAsync("/ping");

        // AttemptAcquire refuses undecided on Redis; the middleware then calls AcquireAsync, which decides there.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], codes);
        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        Assert.Equal("60", denied.Headers.GetValues("Retry-After").Single());
        Assert.Equal(0, storeA.FallbackCount + storeB.FallbackCount);
    }

    private static async Task<WebApplication> StartAsync(RateLimitStore store)
    {
        var ip = RateLimitLayer.FixedWindow("ip", Rate.Parse("3/min"));
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = new SluicePartitionedRateLimiter<HttpContext>(store, [new(ip, c => c.Connection.RemoteIpAddress?.ToString())]);
            options.OnRejected = (context, _) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                return ValueTask.CompletedTask;
            };
        });
        var app = builder.Build();
        app.Use((context, next) =>
        {
            context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.1");
            return next(context);
        });
        app.UseRateLimiter();
        app.MapGet("/ping", () => "pong");
        await app.StartAsync();
        return app;
    }
}
