namespace Sluice.Server.Dns;

/// <summary>
/// Serialises writes to one domain: a per-domain concurrency limit of 1 where a second writer waits (up to a bound)
/// instead of failing. Within the process, writers queue on a per-domain semaphore (first come, first served). Across
/// instances, the holder also takes a lease of a Sluice concurrency layer (limit 1 per domain) from the shared
/// rate-limit store, polling with a short backoff until the bound if another instance holds it; with the Redis store that
/// spans every instance, and a crashed holder's lease expires after <see cref="LeaseLifetime"/>.
/// </summary>
/// <remarks>
/// Semaphore entries are reference-counted and removed when no one holds or waits for them, so memory follows the
/// number of domains being written right now.
/// </remarks>
internal sealed class DomainWriteLocks
{
    /// <summary>How long a lease outlives a holder that never released it (a distributed store only).</summary>
    public static readonly TimeSpan LeaseLifetime = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly RateLimitStore? _store;
    private readonly TimeProvider _time;
    private readonly RateLimitLayer _layer = RateLimitLayer.Concurrency("dns-domain-writes", 1, LeaseLifetime);
    private int _maxWriters;

    /// <summary>Creates the locks; without a store they hold within this process only.</summary>
    public DomainWriteLocks(RateLimitStore? store = null, TimeProvider? time = null)
    {
        _store = store;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The most writers ever inside one domain's lock at once in this process: 1 unless the lock is broken.</summary>
    public int MaxConcurrentWritersPerDomain => Volatile.Read(ref _maxWriters);

    /// <summary>Domains with a writer inside or waiting in this process.</summary>
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

    /// <summary>Waits up to <paramref name="wait"/> for the domain; null when the wait ran out (nothing is held then).</summary>
    public async Task<IAsyncDisposable?> AcquireAsync(string domain, TimeSpan wait, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
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

        RateLimitResult? lease = null;
        try
        {
            lease = await LeaseAsync(domain, wait - _time.GetElapsedTime(started), cancellationToken);
        }
        catch
        {
            entry.Gate.Release();
            Release(domain, entry, held: false);
            throw;
        }

        if (_store is not null && lease is null)
        {
            entry.Gate.Release();
            Release(domain, entry, held: false);
            return null;
        }

        var inside = Interlocked.Increment(ref entry.Inside);
        int seen;
        while (inside > (seen = Volatile.Read(ref _maxWriters)) && Interlocked.CompareExchange(ref _maxWriters, inside, seen) != seen)
        {
        }

        return new Holder(this, domain, entry, lease);
    }

    /// <summary>The cross-instance lease, polling until <paramref name="wait"/> runs out; null without a store or when it ran out.</summary>
    private async Task<RateLimitResult?> LeaseAsync(string domain, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return null;
        }

        var started = _time.GetTimestamp();
        var poll = TimeSpan.FromMilliseconds(2);
        while (true)
        {
            var result = await _store.AcquireAsync(_layer.For(domain));
            if (result.IsAllowed)
            {
                return result;
            }

            var left = wait - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            await Task.Delay(poll < left ? poll : left, _time, cancellationToken);
            poll = poll * 2 < LongestPoll ? poll * 2 : LongestPoll;
        }
    }

    private void Release(string domain, Entry entry, bool held)
    {
        if (held)
        {
            Interlocked.Decrement(ref entry.Inside);
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
        // A field, so Interlocked can count the writers inside even if the gate were broken.
        public int Inside;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int References { get; set; }
    }

    private sealed class Holder(DomainWriteLocks owner, string domain, Entry entry, RateLimitResult? lease) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                try
                {
                    if (lease is not null)
                    {
                        await lease.DisposeAsync();
                    }
                }
                finally
                {
                    owner.Release(domain, entry, held: true);
                }
            }
        }
    }
}
