using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Sluice.Server.Data;

/// <summary>
/// Sets SQLite's own busy timeout on every connection EF Core opens, to the connection string's <c>Default Timeout</c>
/// (30 s unless set). A writer that finds the database locked by another (the quota store's, or another request's)
/// then waits in SQLite's busy handler, a few milliseconds at a time, instead of in Microsoft.Data.Sqlite's retry loop,
/// which sleeps 150 ms between tries: with 16 concurrent certificate issues, that loop held the server to about 13 a
/// second (see docs/benchmarks.md).
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = Command(connection);
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = Command(connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DbCommand Command(DbConnection connection)
    {
        var command = connection.CreateCommand();
        var seconds = connection is SqliteConnection sqlite ? sqlite.DefaultTimeout : 30;
        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {(long)seconds * 1000};");
        return command;
    }
}
