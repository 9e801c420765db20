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
/// writer. Counted items of past periods stay in the table as a record of what was charged, unless
/// <see cref="SqliteQuotaStoreOptions.RetainAfterPeriod"/> is set: then they are deleted that long after their period
/// ends, by a charge at most once an hour or by <see cref="PruneAsync"/>.
/// </remarks>
public sealed partial class SqliteQuotaStore : QuotaStore
{
    private static readonly TimeSpan s_pruneInterval = TimeSpan.FromHours(1);

    private readonly SqliteQuotaStoreOptions _options;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly string _items;
    private readonly string _usage;
    private volatile bool _schemaReady;
    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;

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

        if (options.RetainAfterPeriod < TimeSpan.Zero)
        {
            throw new ArgumentException($"SqliteQuotaStoreOptions.RetainAfterPeriod is {options.RetainAfterPeriod}; it must not be negative.", nameof(options));
        }

        _options = options;
        _items = options.TablePrefix + "quota_items";
        _usage = options.TablePrefix + "quota_usage";
    }

    /// <inheritdoc />
    public override async ValueTask<QuotaDecision> ChargeAsync(QuotaRequest request, CancellationToken cancellationToken = default)
        => (await ChargeManyAsync([request], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Charges the whole batch in one transaction (one fsync), each item as if charged on its own, in order.</summary>
    public override async ValueTask<IReadOnlyList<QuotaDecision>> ChargeManyAsync(IReadOnlyList<QuotaRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        foreach (var request in requests)
        {
            Validate(request);
        }

        var decisions = new QuotaDecision[requests.Count];
        if (requests.Count == 0)
        {
            return decisions;
        }

        var now = _options.TimeProvider.GetUtcNow();
        return await InWriteTransactionAsync(
            async (connection, transaction) =>
            {
                await using var exists = Command(connection, transaction, $"SELECT COUNT(*) FROM {_items} WHERE quota = $q AND subject = $s AND period = $p AND item = $i");
                await using var usage = Command(connection, transaction, $"SELECT COALESCE((SELECT used FROM {_usage} WHERE quota = $q AND subject = $s AND period = $p), 0)");
                await using var insert = Command(connection, transaction, $"INSERT INTO {_items} (quota, subject, period, item) VALUES ($q, $s, $p, $i)");
                var used = new Dictionary<(string Quota, string Subject, string Period), (long Used, bool Changed)>();
                for (var n = 0; n < requests.Count; n++)
                {
                    var request = requests[n];
                    var period = request.Period.NameOf(now);
                    var resets = request.Period.ResetAfter(now);
                    var group = (request.Quota, request.Subject, period);
                    if (!used.TryGetValue(group, out var state))
                    {
                        Bind(usage, request, period);
                        state = ((long)(await usage.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!, false);
                    }

                    Bind(exists, request, period);
                    if ((long)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0)
                    {
                        decisions[n] = new QuotaDecision(QuotaOutcome.AlreadyCounted, request.Limit, state.Used, resets);
                    }
                    else if (state.Used + 1 > request.Limit)
                    {
                        decisions[n] = new QuotaDecision(QuotaOutcome.Exceeded, request.Limit, state.Used, resets);
                    }
                    else
                    {
                        Bind(insert, request, period);
                        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        state = (state.Used + 1, true);
                        decisions[n] = new QuotaDecision(QuotaOutcome.Charged, request.Limit, state.Used, resets);
                    }

                    used[group] = state;
                }

                await using var save = Command(connection, transaction,
                    $"INSERT INTO {_usage} (quota, subject, period, used) VALUES ($q, $s, $p, $u) ON CONFLICT (quota, subject, period) DO UPDATE SET used = excluded.used");
                var total = save.Parameters.Add("$u", SqliteType.Integer);
                foreach (var ((quota, subject, period), state) in used)
                {
                    if (state.Changed)
                    {
                        save.Parameters["$q"].Value = quota;
                        save.Parameters["$s"].Value = subject;
                        save.Parameters["$p"].Value = period;
                        total.Value = state.Used;
                        await save.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                if (_options.RetainAfterPeriod is { } retain && now >= _nextPrune)
                {
                    await DeleteEndedAsync(connection, transaction, now - retain, cancellationToken).ConfigureAwait(false);
                    _nextPrune = now + s_pruneInterval;
                }

                return decisions;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<bool> RefundAsync(QuotaRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        var period = request.Period.NameOf(_options.TimeProvider.GetUtcNow());
        return await InWriteTransactionAsync(
            async (connection, transaction) =>
            {
                await using var delete = Command(connection, transaction, $"DELETE FROM {_items} WHERE quota = $q AND subject = $s AND period = $p AND item = $i");
                Bind(delete, request, period);
                var removed = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
                if (removed)
                {
                    await using var usage = Command(connection, transaction, $"UPDATE {_usage} SET used = used - 1 WHERE quota = $q AND subject = $s AND period = $p AND used > 0");
                    Bind(usage, request, period);
                    await usage.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                return removed;
            },
            cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Deletes the counted items and usage of every period that ended at least
    /// <see cref="SqliteQuotaStoreOptions.RetainAfterPeriod"/> ago; returns how many rows went. Does nothing (and returns 0)
    /// when that option is not set. Charges also do this, at most once an hour.
    /// </summary>
    /// <exception cref="QuotaStoreUnavailableException">The database failed.</exception>
    public async ValueTask<long> PruneAsync(CancellationToken cancellationToken = default)
    {
        if (_options.RetainAfterPeriod is not { } retain)
        {
            return 0;
        }

        var now = _options.TimeProvider.GetUtcNow();
        return await InWriteTransactionAsync(
            async (connection, transaction) =>
            {
                var removed = await DeleteEndedAsync(connection, transaction, now - retain, cancellationToken).ConfigureAwait(false);
                _nextPrune = now + s_pruneInterval;
                return removed;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the periods that ended at or before <paramref name="cutoff"/>. Names of one kind of period have one length
    /// and sort as dates (<c>2026-11</c>, <c>2026-11-23</c>): a period ended by then if its name sorts before the name of
    /// the period of its kind that contains the cutoff.
    /// </summary>
    private async Task<long> DeleteEndedAsync(SqliteConnection connection, SqliteTransaction transaction, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var removed = 0L;
        foreach (var table in new[] { _items, _usage })
        {
            foreach (var kind in Enum.GetValues<QuotaPeriod>())
            {
                var current = kind.NameOf(cutoff);
                await using var delete = connection.CreateCommand();
                delete.Transaction = transaction;
                delete.CommandText = $"DELETE FROM {table} WHERE length(period) = $length AND period < $current";
                delete.Parameters.AddWithValue("$length", current.Length);
                delete.Parameters.AddWithValue("$current", current);
                removed += await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return removed;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction that takes SQLite's write lock, one writer of this store at a
    /// time, and commits it; a database failure becomes <see cref="QuotaStoreUnavailableException"/>.
    /// </summary>
    private async Task<T> InWriteTransactionAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
            var result = await work(connection, transaction).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
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

    internal async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_options.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        // SQLite's own busy handler waits for a lock a few milliseconds at a time; without it, Microsoft.Data.Sqlite
        // retries every 150 ms, and writers sharing the file (the server's own) queue behind those sleeps. Set through
        // the C API: a PRAGMA statement on every open costs more than the read it precedes.
        // 0, which Microsoft.Data.Sqlite reads as no timeout, and values past an int's milliseconds: about 24 days.
        var seconds = connection.DefaultTimeout;
        SQLitePCL.raw.sqlite3_busy_timeout(connection.Handle, seconds <= 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, seconds * 1000L));
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

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.Add("$q", SqliteType.Text);
        command.Parameters.Add("$s", SqliteType.Text);
        command.Parameters.Add("$p", SqliteType.Text);
        command.Parameters.Add("$i", SqliteType.Text);
        return command;
    }

    private static void Bind(SqliteCommand command, in QuotaRequest request, string period)
    {
        command.Parameters["$q"].Value = request.Quota;
        command.Parameters["$s"].Value = request.Subject;
        command.Parameters["$p"].Value = period;
        command.Parameters["$i"].Value = request.Item;
    }

    [GeneratedRegex("^[A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
