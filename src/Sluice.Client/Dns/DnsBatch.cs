namespace Sluice.Client.Dns;

/// <summary>
/// A scope in which <see cref="DnsBulkWriter.WriteAsync"/> only queues: for callers that await each write in turn.
/// <see cref="CommitAsync"/> (or disposal, which commits what is left) sends one bulk request per domain and returns
/// what was written; if any item was refused it throws <see cref="DnsBulkWriteException"/> with every item's outcome.
/// </summary>
public sealed class DnsBatch : IAsyncDisposable
{
    private readonly List<(string Domain, PendingWrite Write)> _writes = [];

    internal DnsBatch(DnsBulkWriter owner, DnsBatch? previous)
    {
        Owner = owner;
        Previous = previous;
    }

    internal DnsBulkWriter Owner { get; }

    internal DnsBatch? Previous { get; }

    internal bool IsEnded { get; private set; }

    /// <summary>Writes queued and not yet committed.</summary>
    public int Count => _writes.Count;

    /// <summary>Sends the queued writes (one bulk request per domain, split at MaxBatch) and ends the scope.</summary>
    /// <exception cref="DnsBulkWriteException">Some writes were refused; the others were applied.</exception>
    public async Task<IReadOnlyList<RRset?>> CommitAsync()
    {
        End();
        var writes = _writes.ToList();
        _writes.Clear();
        var sends = writes.GroupBy(w => w.Domain, StringComparer.OrdinalIgnoreCase).Select(g => Owner.SendInOrder(g.Key, g.Select(w => w.Write).ToList()));
        await Task.WhenAll(sends).ConfigureAwait(false);
        var failures = writes.Where(w => w.Write.Completion.Task.IsFaulted).Select(w => (w.Domain, w.Write.Write, w.Write.Completion.Task.Exception!.InnerException!)).ToList();
        if (failures.Count > 0)
        {
            throw new DnsBulkWriteException(failures);
        }

        return writes.Select(w => w.Write.Completion.Task.Result).ToList();
    }

    /// <summary>Commits what is still queued.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_writes.Count > 0)
        {
            await CommitAsync().ConfigureAwait(false);
        }

        End();
    }

    internal void Add(string domain, RRsetWrite rrset)
        => _writes.Add((domain, new PendingWrite(rrset, new TaskCompletionSource<RRset?>(TaskCreationOptions.RunContinuationsAsynchronously))));

    private void End()
    {
        if (!IsEnded)
        {
            IsEnded = true;
            Owner.EndBatch(this);
        }
    }
}
