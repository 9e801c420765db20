using Sluice.Quotas;

namespace Sluice.Sqlite.Tests;

public sealed class SqliteQuotaStoreContractTests : QuotaStoreContractTests, IDisposable
{
    private readonly TempDatabase _database = new();

    protected override Task<QuotaStore> CreateAsync()
        => Task.FromResult<QuotaStore>(new SqliteQuotaStore(new SqliteQuotaStoreOptions { ConnectionString = _database.ConnectionString, TimeProvider = Time }));

    public void Dispose() => _database.Dispose();
}
