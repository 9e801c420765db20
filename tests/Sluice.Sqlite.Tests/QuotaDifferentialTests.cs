using Sluice.Quotas;

namespace Sluice.Sqlite.Tests;

/// <summary>The SQLite quota store against the in-memory one on seeded random traffic: the same answers.</summary>
public sealed class QuotaDifferentialTests : IDisposable
{
    private readonly TempDatabase _database = new();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task RandomTraffic_GetsTheSameAnswersFromMemoryAndSqlite(int seed)
    {
        var clock = new ManualTimeProvider();
        var memory = new MemoryQuotaStore(clock);
        var sqlite = new SqliteQuotaStore(new SqliteQuotaStoreOptions { ConnectionString = _database.ConnectionString, TimeProvider = clock });

        await QuotaStoreDifferential.RunAsync(memory, sqlite, clock, seed, steps: 1500);
    }

    public void Dispose() => _database.Dispose();
}
