namespace Sluice.Server.Dns;

/// <summary>
/// Serialises writes to one domain in this process: a per-domain concurrency limit of 1 where a second writer waits (up
/// to a bound) instead of failing. Entries are reference-counted and removed when no one holds or waits for them, so
/// memory follows the number of domains being written right now.
/// </summary>
/// <remarks>
/// This is in-process. Several server instances writing one database also serialise at the database (each bulk write
/// is one transaction), but not in arrival order.
/// </remarks>
internal sealed class DomainWriteLocks
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private int _writers;
    private int _maxWriters;

    /// <summary>The most writers ever inside one domain's lock at once: 1 unless the lock is broken. For tests and diagnostics.</summary>
    public int MaxConcurrentWritersPerDomain => Volatile.Read(ref _maxWriters);

    /// <summary>Domains with a writer inside or waiting.</summary>
    public int TrackedDomains
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Waits up to <paramref name="wait"/> for the domain; null when the wait ran out.</summary>
    public async Task<IDisposable?> AcquireAsync(string domain, TimeSpan wait, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(domain, out entry!))
            {
                _entries[domain] = entry = new Entry();
            }

            entry.References++;
        }

        bool acquired;
        try
        {
            acquired = await entry.Gate.WaitAsync(wait, cancellationToken);
        }
        catch
        {
            Release(domain, entry, held: false);
            throw;
        }

        if (!acquired)
        {
            Release(domain, entry, held: false);
            return null;
        }

        var inside = Interlocked.Increment(ref entry.Inside);
        int seen;
        while (inside > (seen = Volatile.Read(ref _maxWriters)) && Interlocked.CompareExchange(ref _maxWriters, inside, seen) != seen)
        {
        }

        Interlocked.Increment(ref _writers);
        return new Holder(this, domain, entry);
    }

    private void Release(string domain, Entry entry, bool held)
    {
        if (held)
        {
            Interlocked.Decrement(ref entry.Inside);
            Interlocked.Decrement(ref _writers);
            entry.Gate.Release();
        }

        lock (_entries)
        {
            if (--entry.References == 0)
            {
                _entries.Remove(domain);
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int References { get; set; }

        // A field, so Interlocked can count the writers inside even if the gate were broken.
        public int Inside;
    }

    private sealed class Holder(DomainWriteLocks owner, string domain, Entry entry) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(domain, entry, held: true);
            }
        }
    }
}
