using System.Collections.Concurrent;
using Sluice.Algorithms;
using Sluice.Memory;

namespace Sluice;

/// <summary>
/// The embedded store: exact and thread-safe within one process, allocation-free per decision, with memory bounded by
/// the keys whose windows are still open.
/// </summary>
/// <remarks>
/// <para>
/// Each layer's keys live in lock stripes (<see cref="MemoryRateLimitStoreOptions.ShardsPerLayer"/>). A decision locks
/// the stripes of all its keys in one global order, checks every rate, charges only if all non-shadow layers had room,
/// and unlocks: the check and the charge are one atomic step, so concurrent callers never exceed a limit. The clock is
/// read once per decision.
/// </para>
/// <para>
/// Memory: one 16-byte entry plus 8 bytes per state slot per key (a fixed-window or token-bucket rate is one slot),
/// in tables kept between 3/8 and 3/4 full: 32 to 64 bytes per key for a one-rate layer, excluding the key string.
/// Keys whose windows have all passed are reclaimed when their stripe next grows or sweeps, never earlier.
/// </para>
/// <para>
/// Concurrency permits live only in this process: a lease that is never released is never reclaimed, so release
/// leases in a <c>finally</c> block.
/// </para>
/// </remarks>
public sealed class MemoryRateLimitStore : RateLimitStore
{
    /// <summary>The most layers one request may name.</summary>
    public const int MaxLayersPerRequest = 32;

    /// <summary>The state of a key never seen: all slots zero. Read only. Sized for the widest rate (1000 sliding segments).</summary>
    private static readonly long[] s_unseenKeyState = new long[512];

    private readonly TimeProvider _time;
    private readonly int _shardsPerLayer;
    private readonly long _epochMicros;
    private readonly long _sweepIntervalMicros;
    private readonly ConcurrentDictionary<(string Name, RateLimitAlgorithm Algorithm, int Segments), LayerTable> _tables = new();
    private readonly Lock _tablesGate = new();
    private LayerTable?[] _tablesById = new LayerTable?[64];
    private int _nextOrder;
    private long _nextLeaseSequence;

    /// <summary>Creates a store with the given options, or the defaults.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public MemoryRateLimitStore(MemoryRateLimitStoreOptions? options = null)
    {
        options ??= new MemoryRateLimitStoreOptions();
        options.Validate();
        _time = options.TimeProvider;
        _shardsPerLayer = options.ShardsPerLayer;
        _sweepIntervalMicros = Microseconds.FromTimeSpanCeiling(options.SweepInterval);
        _epochMicros = Microseconds.Now(_time);
    }

    /// <summary>The number of keys held, expired ones not yet reclaimed included.</summary>
    public long KeyCount => _tables.Values.Sum(t => t.Shards.Sum(s => { lock (s.Gate) { return (long)s.Count; } }));

    /// <summary>Bytes held by the key tables (entries and state), excluding the key strings.</summary>
    public long AllocatedBytes => _tables.Values.Sum(t => t.Shards.Sum(s => { lock (s.Gate) { return s.AllocatedBytes; } }));

    /// <inheritdoc />
    public override ValueTask<RateLimitDecision> AcquireAsync(ReadOnlyMemory<LayerKey> layers, Memory<RateStatus> statuses, long cost = 1, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(Acquire(layers.Span, statuses.Span, cost));

    /// <inheritdoc />
    public override ValueTask ReleaseAsync(ReadOnlyMemory<LayerKey> layers, long leaseId, CancellationToken cancellationToken = default)
    {
        Release(layers.Span, leaseId);
        return ValueTask.CompletedTask;
    }

    /// <summary>The synchronous form of <see cref="AcquireAsync"/>.</summary>
    /// <inheritdoc cref="RateLimitStore.AcquireAsync" />
    public RateLimitDecision Acquire(ReadOnlySpan<LayerKey> layers, Span<RateStatus> statuses, long cost = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        var count = layers.Length;
        if (count == 0)
        {
            return new RateLimitDecision(true, 0, -1, 0, 0);
        }

        if (count > MaxLayersPerRequest)
        {
            throw new ArgumentException($"A request may name at most {MaxLayersPerRequest} layers; it named {count}.", nameof(layers));
        }

        InlineBuffers.Tables tableBuffer = default;
        InlineBuffers.Shards shardBuffer = default;
        InlineBuffers.RateArrays rateBuffer = default;
        Span<LayerTable?> tables = count <= InlineBuffers.Length ? tableBuffer[..count] : new LayerTable?[count];
        Span<LayerShard?> shards = count <= InlineBuffers.Length ? shardBuffer[..count] : new LayerShard?[count];
        Span<Rate[]?> rates = count <= InlineBuffers.Length ? rateBuffer[..count] : new Rate[]?[count];
        Span<int> hashes = stackalloc int[count];
        Span<long> lockOrder = stackalloc long[count];
        var overrides = 0u;
        var statusCount = 0;

        for (var i = 0; i < count; i++)
        {
            var (layer, key) = layers[i];
            ArgumentNullException.ThrowIfNull(layer);
            ArgumentNullException.ThrowIfNull(key);
            var table = GetTable(layer);
            var hash = key.GetHashCode();
            var shardIndex = table.ShardIndex(hash);
            tables[i] = table;
            hashes[i] = hash;
            shards[i] = table.Shard(shardIndex);
            rates[i] = table.RatesFor(layer, key, out var isOverride);
            overrides |= isOverride ? 1u << i : 0;
            statusCount += rates[i]!.Length;
            lockOrder[i] = ((long)table.Order << 40) | ((long)shardIndex << 8) | (uint)i;
        }

        if (statuses.Length < statusCount)
        {
            throw new ArgumentException($"The status buffer holds {statuses.Length} entries; this request needs {statusCount}.", nameof(statuses));
        }

        // One global lock order (table, stripe) rules out deadlock between decisions naming layers in other orders.
        lockOrder.Sort();
        var now = Microseconds.Now(_time);
        EnterAll(shards, lockOrder);
        try
        {
            return Decide(layers, statuses, cost, now, tables, shards, rates, hashes, overrides);
        }
        finally
        {
            ExitAll(shards, lockOrder);
        }
    }

    /// <summary>The synchronous form of <see cref="ReleaseAsync"/>.</summary>
    /// <inheritdoc cref="RateLimitStore.ReleaseAsync" />
    public void Release(ReadOnlySpan<LayerKey> layers, long leaseId)
    {
        var mask = (uint)leaseId;
        if (mask == 0)
        {
            return;
        }

        var now = Microseconds.Now(_time);
        for (var i = 0; i < layers.Length && i < MaxLayersPerRequest; i++)
        {
            if ((mask & (1u << i)) == 0)
            {
                continue;
            }

            var (layer, key) = layers[i];
            var table = GetTable(layer);
            var hash = key.GetHashCode();
            var shard = table.Shard(table.ShardIndex(hash));
            lock (shard.Gate)
            {
                var index = shard.Find(key, hash);
                if (index >= 0)
                {
                    shard.SetExpiry(index, table.Algorithm.Release(shard.State(index)[..table.Algorithm.SlotsPerRate], default, now));
                }
            }
        }
    }

    /// <inheritdoc />
    public override ValueTask SetOverrideAsync(RateLimitLayer layer, string key, IReadOnlyList<Rate> rates, CancellationToken cancellationToken = default)
    {
        ValidateOverride(layer, key, rates);
        GetTable(layer).SetOverride(key, [.. rates]);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask<bool> RemoveOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(key);
        return ValueTask.FromResult(GetTable(layer).RemoveOverride(key));
    }

    /// <inheritdoc />
    public override ValueTask<IReadOnlyList<Rate>?> GetOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(key);
        return ValueTask.FromResult<IReadOnlyList<Rate>?>(GetTable(layer).Overrides.TryGetValue(key, out var rates) ? rates : null);
    }

    private static void EnterAll(Span<LayerShard?> shards, ReadOnlySpan<long> lockOrder)
    {
        LayerShard? previous = null;
        foreach (var entry in lockOrder)
        {
            var shard = shards[(int)(entry & 0xFF)]!;
            if (!ReferenceEquals(shard, previous))
            {
                shard.Gate.Enter();
                previous = shard;
            }
        }
    }

    private static void ExitAll(Span<LayerShard?> shards, ReadOnlySpan<long> lockOrder)
    {
        LayerShard? previous = null;
        for (var i = lockOrder.Length - 1; i >= 0; i--)
        {
            var shard = shards[(int)(lockOrder[i] & 0xFF)]!;
            if (!ReferenceEquals(shard, previous))
            {
                shard.Gate.Exit();
                previous = shard;
            }
        }
    }

    private RateLimitDecision Decide(
        ReadOnlySpan<LayerKey> layers,
        Span<RateStatus> statuses,
        long cost,
        long now,
        Span<LayerTable?> tables,
        Span<LayerShard?> shards,
        Span<Rate[]?> rates,
        ReadOnlySpan<int> hashes,
        uint overrides)
    {
        var count = layers.Length;
        Span<int> indexes = stackalloc int[count];
        Span<int> versions = stackalloc int[count];
        ReadOnlySpan<long> empty = s_unseenKeyState;
        var layerAllowed = 0u;
        var allowed = true;
        var status = 0;

        // Phase 1: every rate of every layer decides, nothing changes.
        for (var i = 0; i < count; i++)
        {
            var layer = layers[i].Layer;
            var shard = shards[i]!;
            var algorithm = tables[i]!.Algorithm;
            var layerRates = rates[i]!;
            var slots = algorithm.SlotsPerRate;
            shard.EnsureStride(layerRates.Length * slots, now);
            var index = shard.Find(layers[i].Key, hashes[i]);
            indexes[i] = index;
            versions[i] = shard.Version;

            var passed = true;
            for (var r = 0; r < layerRates.Length; r++)
            {
                ReadOnlySpan<long> state = index >= 0 ? shard.State(index).Slice(r * slots, slots) : empty[..slots];
                var check = algorithm.Check(state, layerRates[r], now, cost);
                passed &= check.Allowed;
                var outcome = check.Allowed ? RateOutcome.Allowed : layer.IsShadow ? RateOutcome.ShadowDenied : RateOutcome.Denied;
                statuses[status++] = new RateStatus(i, r, layerRates[r], check.Remaining, check.ResetAtMicros, check.RetryAfterMicros, outcome, (overrides & (1u << i)) != 0);
            }

            layerAllowed |= passed ? 1u << i : 0;
            allowed &= passed || layer.IsShadow;
        }

        // Phase 2: charge every layer that had room, but only if the request as a whole passed.
        var charged = 0u;
        if (allowed && cost > 0)
        {
            for (var i = 0; i < count; i++)
            {
                if ((layerAllowed & (1u << i)) == 0)
                {
                    continue;
                }

                var shard = shards[i]!;
                var algorithm = tables[i]!.Algorithm;
                var layerRates = rates[i]!;
                var slots = algorithm.SlotsPerRate;
                var index = indexes[i] >= 0 && versions[i] == shard.Version ? indexes[i] : shard.FindOrInsert(layers[i].Key, hashes[i], now);
                var state = shard.State(index);
                var expiry = long.MinValue;
                for (var r = 0; r < layerRates.Length; r++)
                {
                    expiry = Math.Max(expiry, algorithm.Apply(state.Slice(r * slots, slots), layerRates[r], now, cost));
                }

                shard.SetExpiry(index, expiry);
                charged |= 1u << i;
            }

            for (var i = 0; i < count; i++)
            {
                shards[i]!.MaybeSweep(now);
            }
        }

        // A layer that was not charged reports its state as it is, not as it would have been after the charge.
        var everyLayer = count == 32 ? uint.MaxValue : (1u << count) - 1;
        if (charged != everyLayer)
        {
            RestateUncharged(layers, statuses, now, tables, shards, rates, hashes, charged);
        }

        return Summarize(layers, statuses[..status], allowed, charged, tables);
    }

    private static void RestateUncharged(
        ReadOnlySpan<LayerKey> layers,
        Span<RateStatus> statuses,
        long now,
        Span<LayerTable?> tables,
        Span<LayerShard?> shards,
        Span<Rate[]?> rates,
        ReadOnlySpan<int> hashes,
        uint charged)
    {
        ReadOnlySpan<long> empty = s_unseenKeyState;
        var status = 0;
        for (var i = 0; i < layers.Length; i++)
        {
            var layerRates = rates[i]!;
            if ((charged & (1u << i)) != 0)
            {
                status += layerRates.Length;
                continue;
            }

            var shard = shards[i]!;
            var algorithm = tables[i]!.Algorithm;
            var slots = algorithm.SlotsPerRate;
            var index = shard.Find(layers[i].Key, hashes[i]);
            for (var r = 0; r < layerRates.Length; r++, status++)
            {
                ref var entry = ref statuses[status];
                if (entry.Outcome != RateOutcome.Allowed)
                {
                    continue;
                }

                ReadOnlySpan<long> state = index >= 0 ? shard.State(index).Slice(r * slots, slots) : empty[..slots];
                var check = algorithm.Check(state, layerRates[r], now, 0);
                entry = new RateStatus(i, r, entry.Rate, check.Remaining, check.ResetAtMicros, 0, RateOutcome.Allowed, entry.IsOverride);
            }
        }
    }

    private RateLimitDecision Summarize(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses, bool allowed, uint charged, Span<LayerTable?> tables)
    {
        long leaseId = 0;
        var permits = 0u;
        for (var i = 0; i < layers.Length; i++)
        {
            if ((charged & (1u << i)) != 0 && layers[i].Layer.Algorithm == RateLimitAlgorithm.Concurrency)
            {
                permits |= 1u << i;
            }
        }

        if (permits != 0)
        {
            leaseId = (Interlocked.Increment(ref _nextLeaseSequence) << 32) | permits;
        }

        if (allowed)
        {
            return new RateLimitDecision(true, 0, -1, statuses.Length, leaseId);
        }

        var (retryAfter, denied) = RetryAfter(statuses);
        return new RateLimitDecision(false, retryAfter, denied, statuses.Length, 0);
    }

    /// <summary>
    /// The request passes once every denying rate has room: the longest finite wait among them. A cost above a limit
    /// never passes; a concurrency denial alone has no known time.
    /// </summary>
    internal static (long RetryAfter, int Index) RetryAfter(ReadOnlySpan<RateStatus> statuses)
    {
        long longest = Microseconds.Unknown;
        var index = -1;
        for (var s = 0; s < statuses.Length; s++)
        {
            var wait = statuses[s].RetryAfterMicros;
            if (statuses[s].Outcome != RateOutcome.Denied)
            {
                continue;
            }

            if (wait == Microseconds.Never)
            {
                return (Microseconds.Never, s);
            }

            if (index < 0 || wait > longest)
            {
                longest = wait;
                index = s;
            }
        }

        return (longest, index);
    }

    private LayerTable GetTable(RateLimitLayer layer)
    {
        var byId = Volatile.Read(ref _tablesById);
        if ((uint)layer.Id < (uint)byId.Length && byId[layer.Id] is { } cached)
        {
            return cached;
        }

        return GetTableSlow(layer);
    }

    private LayerTable GetTableSlow(RateLimitLayer layer)
    {
        var table = _tables.GetOrAdd(
            (layer.Name, layer.Algorithm, layer.Algorithm == RateLimitAlgorithm.SlidingWindow ? layer.SlidingWindowSegments : 0),
            static (_, state) => new LayerTable(Interlocked.Increment(ref state.Store._nextOrder), state.Layer, state.Store._shardsPerLayer, state.Store._epochMicros, state.Store._sweepIntervalMicros),
            (Store: this, Layer: layer));

        // Cache by layer identity so the hot path skips hashing the name; ids past 1M (layers built per request) are not cached.
        if (layer.Id < 1 << 20)
        {
            lock (_tablesGate)
            {
                var byId = _tablesById;
                if (layer.Id >= byId.Length)
                {
                    Array.Resize(ref byId, Math.Max(layer.Id + 1, byId.Length * 2));
                }

                byId[layer.Id] = table;
                Volatile.Write(ref _tablesById, byId);
            }
        }

        return table;
    }
}
