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

    [Theory]
    [InlineData("", 30_000)]
    [InlineData(";Default Timeout=5", 5_000)]
    [InlineData(";Default Timeout=0", int.MaxValue)]
    [InlineData(";Default Timeout=3000000", int.MaxValue)]
    public async Task ItsConnections_WaitForALockInSqlitesBusyHandler_ForTheConnectionsDefaultTimeout(string suffix, long expected)
    {
        var store = new SqliteQuotaStore(new SqliteQuotaStoreOptions { ConnectionString = _database.ConnectionString + suffix, TimeProvider = _time });

        await using var connection = await store.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout;";

        Assert.Equal(expected, (long)(await command.ExecuteScalarAsync())!);
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
        Assert.Null(options.RetainAfterPeriod);
    }

    [Fact]
    public void ANegativeRetention_IsRefusedAtConstruction()
        => Assert.Contains("RetainAfterPeriod", Assert.Throws<ArgumentException>(() => new SqliteQuotaStore(new SqliteQuotaStoreOptions
        {
            ConnectionString = _database.ConnectionString,
            RetainAfterPeriod = TimeSpan.FromSeconds(-1),
        })).Message, StringComparison.Ordinal);

    [Fact]
    public async Task PastPeriods_AreDeleted_OnlyOnceTheirRetentionHasPassed()
    {
        var store = Retaining(TimeSpan.FromDays(1));
        _time.SetUtcNow(new DateTimeOffset(2026, 10, 15, 12, 0, 0, TimeSpan.Zero));
        await store.ChargeAsync(Recipient("a@example.com"));
        await store.ChargeAsync(Recipient("b@example.com"));
        await store.ChargeAsync(new QuotaRequest("sends", "acct-1", "x", 10, QuotaPeriod.Day));
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 1, 0, 30, 0, TimeSpan.Zero));
        await store.ChargeAsync(Recipient("c@example.com"));

        // October ended 30 minutes ago and 15 October two weeks ago: only the day was past its retention, and the charge
        // deleted it.
        var afterTheCharge = await PeriodsAsync();
        var early = await store.PruneAsync();
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero));
        var late = await store.PruneAsync();
        var november = await store.GetUsageAsync("recipients", "acct-1", 10, QuotaPeriod.Month);

        Assert.Equal(["2026-10", "2026-11"], afterTheCharge);
        Assert.Equal(0, early);
        Assert.Equal(3, late);
        Assert.Equal(1, november.Used);
        Assert.Equal(["2026-11"], await PeriodsAsync());
    }

    [Fact]
    public async Task ACharge_PrunesTooAtMostOnceAnHour()
    {
        var store = Retaining(TimeSpan.FromMinutes(30));
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        await store.ChargeAsync(new QuotaRequest("sends", "acct-1", "x", 10, QuotaPeriod.Day));
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 24, 0, 10, 0, TimeSpan.Zero));
        await store.ChargeAsync(new QuotaRequest("sends", "acct-1", "y", 10, QuotaPeriod.Day));
        var beforeTheRetentionPassed = await PeriodsAsync();
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 24, 0, 50, 0, TimeSpan.Zero));
        await store.ChargeAsync(new QuotaRequest("sends", "acct-1", "z", 10, QuotaPeriod.Day));
        var withinTheHour = await PeriodsAsync();
        _time.Advance(TimeSpan.FromHours(1));
        await store.ChargeAsync(new QuotaRequest("sends", "acct-1", "w", 10, QuotaPeriod.Day));

        Assert.Equal(["2026-11-23", "2026-11-24"], beforeTheRetentionPassed);
        Assert.Equal(["2026-11-23", "2026-11-24"], withinTheHour);
        Assert.Equal(["2026-11-24"], await PeriodsAsync());
    }

    [Fact]
    public async Task WithoutARetention_NothingIsEverDeleted()
    {
        var store = NewStore();
        _time.SetUtcNow(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await store.ChargeAsync(Recipient("a@example.com"));
        _time.SetUtcNow(new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero));
        await store.ChargeAsync(Recipient("b@example.com"));

        Assert.Equal(0, await store.PruneAsync());
        Assert.Equal(["2020-01", "2026-11"], await PeriodsAsync());
    }

    private SqliteQuotaStore Retaining(TimeSpan retain)
        => new(new SqliteQuotaStoreOptions { ConnectionString = _database.ConnectionString, TimeProvider = _time, RetainAfterPeriod = retain });

    /// <summary>The distinct periods with counted items, read straight from the file.</summary>
    private async Task<string[]> PeriodsAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT DISTINCT period FROM sluice_quota_items ORDER BY period";
        var periods = new List<string>();
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            periods.Add(reader.GetString(0));
        }

        return [.. periods];
    }

    public void Dispose() => _database.Dispose();
}
