namespace Sluice.Client.Dns;

/// <summary>
/// Coalesces single RRset writes into bulk requests, deSEC's advice to clients: writes to one domain are held for at
/// most <see cref="DnsBulkWriterOptions.MaxWait"/> (or until <see cref="DnsBulkWriterOptions.MaxBatch"/> are waiting),
/// merged by (subname, type), and sent as one bulk request, which the server counts once. Each caller's task completes
/// with its own RRset (null once deleted) or its own item's error. Because a bulk request is all-or-nothing, items that
/// were fine in a refused request are sent again without the refused ones.
/// </summary>
/// <remarks>
/// Callers that await each write before making the next (lego presents challenges one after another) cannot be
/// coalesced by time: they use <see cref="BeginBatch"/>, inside which writes are queued and sent on commit.
/// </remarks>
public sealed class DnsBulkWriter : IAsyncDisposable
{
    private static readonly AsyncLocal<DnsBatch?> CurrentBatch = new();

    private readonly DnsApiClient _client;
    private readonly DnsBulkWriterOptions _options;
    private readonly Dictionary<string, (List<PendingWrite> Writes, ITimer? Timer)> _pending = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Task> _inFlight = [];

    /// <summary>Each domain's last bulk request sent or waiting to be: the next one starts after it.</summary>
    private readonly Dictionary<string, Task> _lastSend = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates a writer that sends through <paramref name="client"/>.</summary>
    public DnsBulkWriter(DnsApiClient client, DnsBulkWriterOptions? options = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options ?? new DnsBulkWriterOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatch, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxWait, TimeSpan.Zero, nameof(options));

        // The longest a timer waits (about 49.7 days): past it the first write would fail instead.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.MaxWait, TimerLimits.LongestWait, nameof(options));
    }

    private int _requests;

    /// <summary>Bulk requests sent so far.</summary>
    public int RequestsSent => Volatile.Read(ref _requests);

    /// <summary>
    /// Writes one RRset to <paramref name="domain"/> in the next bulk request for it. Inside a <see cref="BeginBatch"/>
    /// scope the write is only queued: the task completes at once with null, and the batch's commit sends it.
    /// </summary>
    public Task<RRset?> WriteAsync(string domain, RRsetWrite rrset, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        ArgumentNullException.ThrowIfNull(rrset);
        // A batch ended inside an async method stays in the caller's flow (async locals flow down, not back): skip it.
        var batch = CurrentBatch.Value;
        while (batch is { IsEnded: true })
        {
            batch = batch.Previous;
        }

        if (batch is not null && batch.Owner == this)
        {
            batch.Add(domain, rrset);
            return Task.FromResult<RRset?>(null);
        }

        var completion = new TaskCompletionSource<RRset?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (cancellationToken.CanBeCanceled)
        {
            // A cancelled caller stops waiting (its write may still be sent with the batch); the registration ends with the task.
            var registration = cancellationToken.Register(static c => ((TaskCompletionSource<RRset?>)c!).TrySetCanceled(), completion);
            completion.Task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        bool full;
        lock (_pending)
        {
            if (!_pending.TryGetValue(domain, out var entry))
            {
                var timer = _options.MaxWait > TimeSpan.Zero
                    ? _options.TimeProvider.CreateTimer(static s => { var (writer, d) = ((DnsBulkWriter, string))s!; writer.Flush(d); }, (this, domain), _options.MaxWait, Timeout.InfiniteTimeSpan)
                    : null;
                entry = ([], timer);
                _pending[domain] = entry;
            }

            entry.Writes.Add(new PendingWrite(rrset, completion));
            full = entry.Writes.Count >= _options.MaxBatch || _options.MaxWait == TimeSpan.Zero;
        }

        if (full)
        {
            Flush(domain);
        }

        return completion.Task;
    }

    /// <summary>Starts a batch on this async flow: writes inside it are queued until <see cref="DnsBatch.CommitAsync"/> or disposal.</summary>
    public DnsBatch BeginBatch()
    {
        var current = new DnsBatch(this, CurrentBatch.Value);
        CurrentBatch.Value = current;
        return current;
    }

    /// <summary>Sends every waiting write now and waits for all bulk requests in flight.</summary>
    public async Task FlushAsync()
    {
        string[] domains;
        lock (_pending)
        {
            domains = [.. _pending.Keys];
        }

        foreach (var domain in domains)
        {
            Flush(domain);
        }

        Task[] running;
        lock (_inFlight)
        {
            running = [.. _inFlight];
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>Flushes what is waiting.</summary>
    public async ValueTask DisposeAsync() => await FlushAsync().ConfigureAwait(false);

    internal void EndBatch(DnsBatch batch) => CurrentBatch.Value = batch.Previous;

    /// <summary>
    /// Sends <paramref name="writes"/> to one domain after every bulk request flushed to it before has been answered, so
    /// that a later write to an RRset is never overtaken by an earlier one (a slow or retried request would otherwise let
    /// the older records win). The server applies one domain's writes one at a time anyway.
    /// </summary>
    internal Task SendInOrder(string domain, List<PendingWrite> writes)
    {
        lock (_inFlight)
        {
            var previous = _lastSend.GetValueOrDefault(domain) ?? Task.CompletedTask;
            var sending = SendAfterAsync(previous, domain, writes);
            _lastSend[domain] = sending;
            _inFlight.RemoveAll(t => t.IsCompleted);
            _inFlight.Add(sending);
            if (_lastSend.Count > 64)
            {
                foreach (var done in _lastSend.Where(p => p.Value.IsCompleted).Select(p => p.Key).ToList())
                {
                    _lastSend.Remove(done);
                }
            }

            return sending;
        }
    }

    private async Task SendAfterAsync(Task previous, string domain, List<PendingWrite> writes)
    {
        // Always yields: nothing of the send runs under the caller's lock.
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ForceYielding);
        await SendAsync(domain, writes).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="writes"/> to one domain as bulk requests of at most MaxBatch RRsets; completes every caller.</summary>
    private async Task SendAsync(string domain, List<PendingWrite> writes)
    {
        var queue = BulkPlan.Merge(writes.Where(w => !w.Completion.Task.IsCompleted));
        while (queue.Count > 0)
        {
            var chunk = queue.Take(_options.MaxBatch).ToList();
            queue = queue.Skip(_options.MaxBatch).ToList();
            Interlocked.Increment(ref _requests);
            try
            {
                var written = await _client.WriteRRsetsAsync(domain, chunk.Select(c => c.Write).ToList()).ConfigureAwait(false);
                var byKey = written.ToDictionary(r => (r.Subname, r.Type));
                foreach (var (write, callers) in chunk)
                {
                    var result = byKey.GetValueOrDefault(write.Key);
                    callers.ForEach(c => c.TrySetResult(result));
                }
            }
            catch (DnsApiException e) when (e.ItemErrors is { } errors && errors.Count == chunk.Count)
            {
                // All or nothing: fail the refused items, send the others again without them.
                var retry = new List<(RRsetWrite, List<TaskCompletionSource<RRset?>>)>();
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (errors[i].Count > 0)
                    {
                        var own = new DnsApiException(e.StatusCode ?? System.Net.HttpStatusCode.BadRequest, e.Body, errors: errors[i]);
                        chunk[i].Callers.ForEach(c => c.TrySetException(own));
                    }
                    else
                    {
                        retry.Add(chunk[i]);
                    }
                }

                queue.InsertRange(0, retry);
            }
            catch (Exception e)
            {
                chunk.ForEach(c => c.Callers.ForEach(t => t.TrySetException(e)));
            }
        }
    }

    private void Flush(string domain)
    {
        List<PendingWrite> writes;
        lock (_pending)
        {
            if (!_pending.Remove(domain, out var entry))
            {
                return;
            }

            entry.Timer?.Dispose();
            writes = entry.Writes;
        }

        SendInOrder(domain, writes);
    }
}
