using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sluice.Redis.Tests;

public sealed class RedisClusterTests(RedisClusterNode cluster) : IClassFixture<RedisClusterNode>
{
    private static readonly LayerKey[] s_layers =
    [
        RateLimitLayer.FixedWindow("ip", Rate.Parse("100/min")).For("203.0.113.7"),
        new RateLimitLayer("dns", RateLimitAlgorithm.FixedWindow, [Rate.Parse("10/s"), Rate.Parse("15/min")], shadow: false).For("example.com"),
        RateLimitLayer.Concurrency("writes", 1, TimeSpan.FromSeconds(30)).For("example.com"),
    ];

    private RedisRateLimitStore Store(string prefix, RedisFailureMode mode) => new(new RedisRateLimitStoreOptions
    {
        Configuration = cluster.Configuration,
        KeyPrefix = prefix,
        FailureMode = mode,
        Timeout = TimeSpan.FromSeconds(5),
    });

    [Fact]
    public async Task APrefixWithoutAHashTag_FailsOpenWithoutThrowing_AndTheErrorAndHealthCheckNameTheFix()
    {
        using var store = Store(RedisContractStores.UniqueName("plain") + ":", RedisFailureMode.FailOpen);

        await using var result = await store.AcquireAsync(s_layers);
        var health = await new RedisRateLimitStoreHealthCheck(store).CheckHealthAsync(new HealthCheckContext());
        await store.AcquireAsync(s_layers);
        await store.AcquireAsync(s_layers);
        var broken = await new RedisRateLimitStoreHealthCheck(store).CheckHealthAsync(new HealthCheckContext());

        Assert.True(result.IsAllowed);
        Assert.Equal(3, store.FallbackCount);
        var error = Assert.IsType<InvalidOperationException>(store.LastError);
        Assert.Contains("hash tag", error.Message);
        Assert.Contains("Sluice:Redis:KeyPrefix", error.Message);
        Assert.False(store.IsUsingRedis);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(HealthStatus.Degraded, broken.Status);
        Assert.Contains("hash tag", broken.Description);
    }

    [Fact]
    public async Task APrefixWithoutAHashTag_FailsClosedWithTheStoresOwnException()
    {
        using var store = Store(RedisContractStores.UniqueName("plain") + ":", RedisFailureMode.FailClosed);

        var refused = await Assert.ThrowsAsync<RateLimitStoreUnavailableException>(async () => await store.AcquireAsync(s_layers));

        Assert.Contains("hash tag", store.LastError!.Message);
        Assert.Equal(1, store.FallbackCount);
        Assert.NotNull(refused.InnerException);
    }

    [Fact]
    public async Task AHashTaggedPrefix_DecidesInRedis_WithOneEvalshaPerDecision_AndReleasesTheLease()
    {
        using var store = Store("{" + RedisContractStores.UniqueName("t") + "}:", RedisFailureMode.FailClosed);
        await (await store.AcquireAsync(s_layers)).DisposeAsync();
        var before = await cluster.EvalshaCallsAsync();

        var first = await store.AcquireAsync(s_layers);
        var second = await store.AcquireAsync(s_layers);
        await first.DisposeAsync();
        await using var third = await store.AcquireAsync(s_layers);

        Assert.True(first.IsAllowed);
        Assert.False(second.IsAllowed);
        Assert.Equal("writes", second.DeniedLayer!.Name);
        Assert.True(third.IsAllowed);
        Assert.Equal(3, await cluster.EvalshaCallsAsync() - before);
        Assert.Equal(0, store.FallbackCount);
    }
}
