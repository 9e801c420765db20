using Sluice.Quotas;

namespace Sluice.Redis.Tests;

/// <summary>The quota contract on the Redis server at <paramref name="configuration"/>; each test gets its own key prefix.</summary>
public abstract class RedisQuotaStoreContract(string configuration) : QuotaStoreContractTests, IDisposable
{
    private readonly List<RedisQuotaStore> _stores = [];

    protected override Task<QuotaStore> CreateAsync()
    {
        _stores.Add(RedisContractStores.Quota(configuration, Time));
        return Task.FromResult<QuotaStore>(_stores[^1]);
    }

    public void Dispose() => _stores.ForEach(s => s.Dispose());
}
