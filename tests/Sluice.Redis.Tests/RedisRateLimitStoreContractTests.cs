namespace Sluice.Redis.Tests;

/// <summary>The store contract, against a real redis-server, with the decisions' time sent from the fake clock.</summary>
public sealed class RedisRateLimitStoreContractTests(RedisServer redis) : RateLimitStoreContractTests, IClassFixture<RedisServer>
{
    protected override Task<StoreHarness> CreateAsync()
        => Task.FromResult(RedisContractStores.RateLimit(redis.Configuration, RedisContractStores.UniqueName("contract") + ":"));
}
