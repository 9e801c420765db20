using Sluice.Quotas;

namespace Sluice.Redis.Tests;

/// <summary>The quota contract against a real redis-server; each test gets its own key prefix.</summary>
public sealed class RedisQuotaStoreContractTests(RedisServer redis) : QuotaStoreContractTests, IClassFixture<RedisServer>, IDisposable
{
    private readonly List<RedisQuotaStore> _stores = [];

    protected override Task<QuotaStore> CreateAsync()
    {
        var store = new RedisQuotaStore(new RedisQuotaStoreOptions
        {
            Configuration = redis.Configuration,
            KeyPrefix = "quota-" + Guid.NewGuid().ToString("N")[..8] + ":",
            TimeProvider = Time,
            Timeout = TimeSpan.FromSeconds(5),
        });
        _stores.Add(store);
        return Task.FromResult<QuotaStore>(store);
    }

    public void Dispose() => _stores.ForEach(s => s.Dispose());
}
