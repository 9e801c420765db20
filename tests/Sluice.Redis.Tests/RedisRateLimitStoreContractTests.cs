namespace Sluice.Redis.Tests;

/// <summary>The store contract, against a real redis-server, with the decisions' time sent from the fake clock.</summary>
public sealed class RedisRateLimitStoreContractTests(RedisServer redis) : RateLimitStoreContractTests, IClassFixture<RedisServer>
{
    protected override Task<StoreHarness> CreateAsync()
    {
        var clock = new ManualTimeProvider();
        var store = new RedisRateLimitStore(new RedisRateLimitStoreOptions
        {
            Configuration = redis.Configuration,
            KeyPrefix = "contract-" + Guid.NewGuid().ToString("N")[..8] + ":",
            UseServerTime = false,
            TimeProvider = clock,
            Timeout = TimeSpan.FromSeconds(5),

            // Redis expires keys in real time while these tests move a fake clock: keep state for the whole test.
            KeyTtlPadding = TimeSpan.FromMinutes(10),
        });
        return Task.FromResult(new StoreHarness(store, clock)
        {
            OnDispose = () =>
            {
                // Every decision of the contract must have been made by Redis, not by the local fallback.
                Assert.True(store.FallbackCount == 0, $"{store.FallbackCount} decisions fell back: {store.LastError}");
                store.Dispose();
                return ValueTask.CompletedTask;
            },
        });
    }
}
