using Sluice.Quotas;

namespace Sluice.Redis.Tests;

/// <summary>The stores the contract suites run against, on a standalone server or a cluster.</summary>
internal static class RedisContractStores
{
    /// <summary>A rate-limit store whose decisions carry the fake clock's time; disposing it asserts Redis made every decision.</summary>
    public static StoreHarness RateLimit(string configuration, string keyPrefix)
    {
        var clock = new ManualTimeProvider();
        var store = new RedisRateLimitStore(new RedisRateLimitStoreOptions
        {
            Configuration = configuration,
            KeyPrefix = keyPrefix,
            UseServerTime = false,
            TimeProvider = clock,
            Timeout = TimeSpan.FromSeconds(5),

            // Redis expires keys in real time while these tests move a fake clock: keep state for the whole test.
            KeyTtlPadding = TimeSpan.FromMinutes(10),
        });
        return new StoreHarness(store, clock)
        {
            OnDispose = () =>
            {
                // Every decision of the contract must have been made by Redis, not by the local fallback.
                Assert.True(store.FallbackCount == 0, $"{store.FallbackCount} decisions fell back: {store.LastError}");
                store.Dispose();
                return ValueTask.CompletedTask;
            },
        };
    }

    public static RedisQuotaStore Quota(string configuration, TimeProvider time) => new(new RedisQuotaStoreOptions
    {
        Configuration = configuration,
        KeyPrefix = "quota-" + Guid.NewGuid().ToString("N")[..8] + ":",
        TimeProvider = time,
        Timeout = TimeSpan.FromSeconds(5),
    });

    public static string UniqueName(string stem) => stem + "-" + Guid.NewGuid().ToString("N")[..8];
}
