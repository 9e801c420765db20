namespace Sluice.Redis.Tests;

/// <summary>The Redis store against the in-memory one on seeded random traffic: the same decision, status by status.</summary>
public sealed class DifferentialTests(RedisServer redis) : IClassFixture<RedisServer>
{
    /// <summary>32 seeds, and seeds that once found a difference (50731, 50878: a count an override's removal dropped; 63320: a rate a reload dropped and brought back).</summary>
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 32), 50731, 50878, 63320];

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
            // Generous: a decision that times out on a loaded machine falls back, and may still have run in Redis.
            Timeout = TimeSpan.FromSeconds(30),
            KeyTtlPadding = TimeSpan.FromMinutes(30),
        });

        try
        {
            await StoreDifferential.RunAsync(memory, store, clock, seed, steps: 1000, seed % 2 == 0 ? StoreDifferential.Mixed : StoreDifferential.OneRate);
        }
        catch (Exception e) when (store.FallbackCount > 0)
        {
            // A difference after a fallback is Redis being slow, not the arithmetic: say so.
            throw new Xunit.Sdk.XunitException($"{store.FallbackCount} decisions fell back ({store.LastError?.Message}); then: {e.Message}");
        }

        Assert.Equal(0, store.FallbackCount);
    }
}
