using Sluice.Quotas;

namespace Sluice.Sqlite.Tests;

public sealed class SqliteQuotaStoreTests : IDisposable
{
    private readonly TempDatabase _database = new();
    private readonly ManualTimeProvider _time = new();

    private SqliteQuotaStore NewStore() => new(new SqliteQuotaStoreOptions { ConnectionString = _database.ConnectionString, TimeProvider = _time });

    private static QuotaRequest Recipient(string item) => new("recipients", "acct-1", item, 10, QuotaPeriod.Month);

    [Fact]
    public async Task Usage_SurvivesANewStoreOnTheSameFile_AsAfterARestart()
    {
        await NewStore().ChargeAsync(Recipient("a@example.com"));
        await NewStore().ChargeAsync(Recipient("b@example.com"));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        var restarted = NewStore();
        var again = await restarted.ChargeAsync(Recipient("a@example.com"));
        var usage = await restarted.GetUsageAsync("recipients", "acct-1", 10, QuotaPeriod.Month);

        Assert.True(File.Exists(_database.Path));
        Assert.Equal(QuotaOutcome.AlreadyCounted, again.Outcome);
        Assert.Equal(2, usage.Used);
    }

    [Fact]
    public async Task TwoStoresOnOneFile_LikeTwoProcesses_NeverAdmitMoreThanTheLimit()
    {
        var first = NewStore();
        var second = NewStore();

        var decisions = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() =>
            (i % 2 == 0 ? first : second).ChargeAsync(new QuotaRequest("recipients", "acct-1", $"r{i}", 10, QuotaPeriod.Month)).AsTask())));

        Assert.Equal(10, decisions.Count(d => d.Outcome == QuotaOutcome.Charged));
    }

    [Fact]
    public async Task AnUnwritableDatabase_IsReportedAsUnavailable_NotAsASqliteError()
    {
        var store = new SqliteQuotaStore(new SqliteQuotaStoreOptions { ConnectionString = $"Data Source={Path.Combine(_database.Path, "missing", "x.db")}" });

        await Assert.ThrowsAsync<QuotaStoreUnavailableException>(() => store.ChargeAsync(Recipient("a")).AsTask());
    }

    [Theory]
    [InlineData("", "sluice_")]
    [InlineData("Data Source=x.db", "drop table;")]
    public void BadOptions_AreRefusedAtConstruction(string connectionString, string prefix)
        => Assert.Throws<ArgumentException>(() => new SqliteQuotaStore(new SqliteQuotaStoreOptions { ConnectionString = connectionString, TablePrefix = prefix }));

    [Fact]
    public void Options_HaveTheDocumentedDefaults()
    {
        var options = new SqliteQuotaStoreOptions();

        Assert.Equal("sluice_", options.TablePrefix);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Equal(string.Empty, options.ConnectionString);
    }

    public void Dispose() => _database.Dispose();
}
