using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Server.Data;

namespace Sluice.Server.Tests;

/// <summary>How the server's own connections to its SQLite file behave.</summary>
public sealed class DatabaseConnectionTests
{
    [Theory]
    [InlineData("", 30_000)]
    [InlineData(";Default Timeout=7", 7_000)]
    [InlineData(";Default Timeout=0", int.MaxValue)]
    public async Task EveryConnection_WaitsForALockInSqlitesBusyHandler_ForTheConnectionStringsDefaultTimeout(string suffix, long expected)
    {
        var directory = Directory.CreateTempSubdirectory("sluice-db-").FullName;
        try
        {
            await using var host = new ServerHost(
                new Dictionary<string, string?> { ["ConnectionStrings:Sluice"] = $"Data Source={Path.Combine(directory, "server.db")}{suffix}" },
                directory: directory);
            using var scope = host.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDb>();

            await db.Database.OpenConnectionAsync();
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA busy_timeout;";

            Assert.Equal(expected, (long)(await command.ExecuteScalarAsync())!);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
