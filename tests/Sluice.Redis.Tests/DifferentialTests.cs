namespace Sluice.Redis.Tests;

/// <summary>The Redis store against the in-memory one on seeded random traffic: the same decision, status by status.</summary>
public sealed class DifferentialTests(RedisServer redis) : IClassFixture<RedisServer>
{
    public static TheoryData<int> Seeds() => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task RandomTraffic_GetsTheSameDecisionFromMemoryAndRedis(int seed)
    {
        var clock = new ManualTimeProvider();
        var memory = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock });
        using var store = new RedisRateLimitStore(new RedisRateLimitStoreOptions
        {
            Configuration = redis.Configuration,
            KeyPrefix = RedisContractStores.UniqueName("diff") + ":",
            UseServerTime = false,
            TimeProvider = clock,
            Timeout = TimeSpan.FromSeconds(5),
            KeyTtlPadding = TimeSpan.FromMinutes(30),
        });

        await StoreDifferential.RunAsync(memory, store, clock, seed, steps: 1000, seed % 2 == 0 ? StoreDifferential.Mixed : StoreDifferential.OneRate);

        Assert.Equal(0, store.FallbackCount);
    }
}
