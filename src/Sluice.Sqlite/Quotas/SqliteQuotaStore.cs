using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Sluice.Quotas;

/// <summary>
/// A durable quota store in a SQLite database file, the embedded default. Usage survives restarts, and charges are
/// exact across threads (one writer at a time in the process) and across processes sharing the file (each charge is one
/// <c>BEGIN IMMEDIATE</c> transaction, so SQLite's write lock serialises them).
/// </summary>
/// <remarks>
/// The tables are created on first use, and the database is switched to WAL journaling so reads do not block the
/// writer. Counted items of past periods stay in the table as a record of what was charged; nothing reads them again.
/// </remarks>
public sealed partial class SqliteQuotaStore : QuotaStore
{
    private readonly SqliteQuotaStoreOptions _options;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly string _items;
    private readonly string _usage;
    private volatile bool _schemaReady;

    /// <summary>Creates the store; nothing is opened until the first call.</summary>
    /// <exception cref="ArgumentException">The connection string is empty or the table prefix is not a plain identifier.</exception>
    public SqliteQuotaStore(SqliteQuotaStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("SqliteQuotaStoreOptions.ConnectionString is empty.", nameof(options));
        }

        if (!Identifier().IsMatch(options.TablePrefix ?? string.Empty))
        {
            throw new ArgumentException($"SqliteQuotaStoreOptions.TablePrefix '{options.TablePrefix}' must be letters, digits and underscores.", nameof(options));
        }

        _options = options;
        _items = options.TablePrefix + "quota_items";
        _usage = options.TablePrefix + "quota_usage";
    }

    /// <inheritdoc />
    public override async ValueTask<QuotaDecision> ChargeAsync(QuotaRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        var now = _options.TimeProvider.GetUtcNow();
        var period = request.Period.NameOf(now);
        var resets = request.Period.ResetAfter(now);

        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);

            await using var read = Command(connection, transaction,
                $"SELECT (SELECT COUNT(*) FROM {_items} WHERE quota = $q AND subject = $s AND period = $p AND item = $i), " +
                $"COALESCE((SELECT used FROM {_usage} WHERE quota = $q AND subject = $s AND period = $p), 0)",
                request, period);
            long counted, used;
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                counted = reader.GetInt64(0);
                used = reader.GetInt64(1);
            }

            if (counted > 0)
            {
                return new QuotaDecision(QuotaOutcome.AlreadyCounted, request.Limit, used, resets);
            }

            if (used + 1 > request.Limit)
            {
                return new QuotaDecision(QuotaOutcome.Exceeded, request.Limit, used, resets);
            }

            await using var write = Command(connection, transaction,
                $"INSERT INTO {_items} (quota, subject, period, item) VALUES ($q, $s, $p, $i); " +
                $"INSERT INTO {_usage} (quota, subject, period, used) VALUES ($q, $s, $p, 1) " +
                "ON CONFLICT (quota, subject, period) DO UPDATE SET used = used + 1;",
                request, period);
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new QuotaDecision(QuotaOutcome.Charged, request.Limit, used + 1, resets);
        }
        catch (SqliteException e)
        {
            throw new QuotaStoreUnavailableException($"The SQLite quota store failed: {e.Message}", e);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <inheritdoc />
    public override async ValueTask<QuotaUsage> GetUsageAsync(string quota, string subject, long limit, QuotaPeriod period, CancellationToken cancellationToken = default)
    {
        var now = _options.TimeProvider.GetUtcNow();
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var read = connection.CreateCommand();
            read.CommandText = $"SELECT COALESCE((SELECT used FROM {_usage} WHERE quota = $q AND subject = $s AND period = $p), 0)";
            read.Parameters.AddWithValue("$q", quota);
            read.Parameters.AddWithValue("$s", subject);
            read.Parameters.AddWithValue("$p", period.NameOf(now));
            var used = (long)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            return new QuotaUsage(limit, used, period.ResetAfter(now));
        }
        catch (SqliteException e)
        {
            throw new QuotaStoreUnavailableException($"The SQLite quota store failed: {e.Message}", e);
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_options.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!_schemaReady)
        {
            await using var create = connection.CreateCommand();
            create.CommandText =
                "PRAGMA journal_mode = WAL; " +
                $"CREATE TABLE IF NOT EXISTS {_items} (quota TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, item TEXT NOT NULL, " +
                "PRIMARY KEY (quota, subject, period, item)) WITHOUT ROWID; " +
                $"CREATE TABLE IF NOT EXISTS {_usage} (quota TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, used INTEGER NOT NULL, " +
                "PRIMARY KEY (quota, subject, period)) WITHOUT ROWID;";
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            _schemaReady = true;
        }

        return connection;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, in QuotaRequest request, string period)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$q", request.Quota);
        command.Parameters.AddWithValue("$s", request.Subject);
        command.Parameters.AddWithValue("$p", period);
        command.Parameters.AddWithValue("$i", request.Item);
        return command;
    }

    [GeneratedRegex("^[A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
