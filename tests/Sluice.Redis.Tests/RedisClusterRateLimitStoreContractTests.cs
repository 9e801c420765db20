namespace Sluice.Redis.Tests;

/// <summary>
/// The store contract on a Redis Cluster (one node serving every slot), with a hash-tagged key prefix so that one
/// decision's keys share a slot: every decision must be made by Redis, none refused for crossing slots.
/// </summary>
public sealed class RedisClusterRateLimitStoreContractTests(RedisClusterNode cluster) : RateLimitStoreContractTests, IClassFixture<RedisClusterNode>
{
    protected override Task<StoreHarness> CreateAsync()
        => Task.FromResult(RedisContractStores.RateLimit(cluster.Configuration, "{" + RedisContractStores.UniqueName("contract") + "}:"));
}
