using Sluice.Quotas;

namespace Sluice.Redis.Tests;

/// <summary>The Redis quota store against the in-memory one on seeded random traffic: the same answers.</summary>
public sealed class QuotaDifferentialTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task RandomTraffic_GetsTheSameAnswersFromMemoryAndRedis(int seed)
    {
        var clock = new ManualTimeProvider();
        var memory = new MemoryQuotaStore(clock);
        using var store = RedisContractStores.Quota(redis.Configuration, clock);

        await QuotaStoreDifferential.RunAsync(memory, store, clock, seed, steps: 1500);
    }
}
