using Sluice.Quotas;
using StackExchange.Redis;

namespace Sluice.Redis.Tests;

public sealed class RedisQuotaStoreTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private readonly string _prefix = "quota-" + Guid.NewGuid().ToString("N")[..8] + ":";

    [Fact]
    public async Task ThreeInstances_ChargingConcurrently_AdmitExactlyTheRemainder()
    {
        var time = new ManualTimeProvider();
        var stores = Enumerable.Range(0, 3)
            .Select(_ => new RedisQuotaStore(new RedisQuotaStoreOptions { Configuration = redis.Configuration, KeyPrefix = _prefix, TimeProvider = time, Timeout = TimeSpan.FromSeconds(5) }))
            .ToArray();

        var decisions = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() =>
            stores[i % 3].ChargeAsync(new QuotaRequest("recipients", "acct", $"r{i}", 10, QuotaPeriod.Month)).AsTask())));

        Assert.Equal(10, decisions.Count(d => d.Outcome == QuotaOutcome.Charged));
        foreach (var store in stores)
        {
            store.Dispose();
        }
    }

    [Fact]
    public async Task APeriodsSet_ExpiresAfterThePeriodPlusTheRetention()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 6, 30, 0, 0, 0, TimeSpan.Zero));
        using var store = new RedisQuotaStore(new RedisQuotaStoreOptions { Configuration = redis.Configuration, KeyPrefix = _prefix, TimeProvider = time, RetainAfterPeriod = TimeSpan.FromHours(1) });

        await store.ChargeAsync(new QuotaRequest("recipients", "acct", "a", 10, QuotaPeriod.Month));
        var ttl = await redis.Admin.GetDatabase().KeyTimeToLiveAsync($"{_prefix}quota:recipients:acct:2026-06");

        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value.TotalSeconds, TimeSpan.FromHours(25).TotalSeconds - 5, TimeSpan.FromHours(25).TotalSeconds);
    }

    [Fact]
    public async Task AnUnreachableRedis_IsReportedAsUnavailable()
    {
        using var store = new RedisQuotaStore(new RedisQuotaStoreOptions { Configuration = "127.0.0.1:1,connectTimeout=200", Timeout = TimeSpan.FromMilliseconds(300) });

        await Assert.ThrowsAsync<QuotaStoreUnavailableException>(() => store.ChargeAsync(new QuotaRequest("recipients", "acct", "a", 10, QuotaPeriod.Month)).AsTask());
    }
}
