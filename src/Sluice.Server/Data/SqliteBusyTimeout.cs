using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Sluice.Server.Data;

/// <summary>
/// Sets SQLite's own busy timeout on every connection EF Core opens, to the connection string's <c>Default Timeout</c>
/// (30 s unless set). A writer that finds the database locked by another (the quota store's, or another request's)
/// then waits in SQLite's busy handler, a few milliseconds at a time, instead of in Microsoft.Data.Sqlite's retry loop,
/// which sleeps 150 ms between tries: with 16 concurrent certificate issues, that loop held the server to about 50 a
/// second (see docs/benchmarks.md).
/// </summary>
/// <remarks>
/// Set through SQLite's C API (<c>sqlite3_busy_timeout</c>), not a <c>PRAGMA</c> statement: EF Core opens a pooled
/// connection for every query, and a statement each time slowed reads (see docs/benchmarks.md).
/// </remarks>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    /// <summary>
    /// <c>Default Timeout</c> in milliseconds for SQLite; 0, which Microsoft.Data.Sqlite reads as no timeout, and values
    /// past what an <see cref="int"/> holds become <see cref="int.MaxValue"/> (about 24 days).
    /// </summary>
    internal static int Milliseconds(int seconds) => seconds <= 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, seconds * 1000L);

    private static void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection sqlite)
        {
            SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, Milliseconds(sqlite.DefaultTimeout));
        }
    }
}
