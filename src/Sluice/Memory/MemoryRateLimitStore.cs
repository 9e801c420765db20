using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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
/// the stripes of all its keys (it waits for a stripe only in one global order, so decisions cannot deadlock), checks
/// every rate, charges only if all non-shadow layers had room, and unlocks: the check and the charge are one atomic
/// step, so concurrent callers never exceed a limit. The clock is read once per decision.
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
[SkipLocalsInit]
public sealed class MemoryRateLimitStore : RateLimitStore
{
    /// <summary>The most layers one request may name.</summary>
    public const int MaxLayersPerRequest = 32;

    /// <inheritdoc />
    public override int MaxLayersPerDecision => MaxLayersPerRequest;

    /// <summary>The state of a key never seen: all slots zero. Read only. Sized for the widest rate (1000 sliding segments).</summary>
    private static readonly long[] s_unseenKeyState = new long[512];

    private readonly StoreClock _clock;
    private readonly int _shardsPerLayer;
    private readonly bool _generalPathOnly;
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
        _clock = new StoreClock(options.TimeProvider, options.CoarseSystemClock);
        _shardsPerLayer = options.ShardsPerLayer;
        _generalPathOnly = options.GeneralPathOnly;
        _sweepIntervalMicros = Microseconds.FromTimeSpanCeiling(options.SweepInterval);
        _epochMicros = _clock.Now();
    }

    /// <summary>The number of keys held, expired ones not yet reclaimed included.</summary>
    public long KeyCount => _tables.Values.Sum(t => t.Shards.Sum(s => Locked(s, static s => (long)s.Count)));

    /// <summary>Bytes held by the key tables (entries and state), excluding the key strings.</summary>
    public long AllocatedBytes => _tables.Values.Sum(t => t.Shards.Sum(s => Locked(s, static s => s.AllocatedBytes)));

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
            return new RateLimitDecision(true, 0, -1, 0, 0, 0);
        }

        if (count == 1 && !_generalPathOnly)
        {
            return AcquireOne(layers, statuses, cost);
        }

        if (count > MaxLayersPerRequest)
        {
            throw new ArgumentException($"A request may name at most {MaxLayersPerRequest} layers; it named {count}.", nameof(layers));
        }

        long? now = null;
        if (count <= InlineBuffers.LeanLayers && !_generalPathOnly && statuses.Length >= count
            && TryAcquireLean(layers, statuses, cost, out var lean, out now))
        {
            return lean;
        }

        return AcquireGeneral(layers, statuses, cost, now);
    }

    /// <summary>Any request: every layer, every rate, every algorithm.</summary>
    /// <param name="layers">The layers.</param>
    /// <param name="statuses">The status buffer.</param>
    /// <param name="cost">The cost.</param>
    /// <param name="now">The time already read for this decision, if any: the clock is read once per decision.</param>
    private RateLimitDecision AcquireGeneral(ReadOnlySpan<LayerKey> layers, Span<RateStatus> statuses, long cost, long? now)
    {
        var count = layers.Length;
        Unsafe.SkipInit(out InlineBuffers.LayerInts hashBuffer);
        Unsafe.SkipInit(out InlineBuffers.LayerLongs orderBuffer);
        Span<int> hashes = hashBuffer;
        Span<long> lockOrder = ((Span<long>)orderBuffer)[..count];
        Resolve(layers, hashes, lockOrder, oneSlotOnly: false);

        // One global lock order (table, stripe) rules out deadlock between decisions naming layers in other orders.
        SortSmall(lockOrder);
        var time = now ?? _clock.Now();
        EnterAll(layers, hashes, lockOrder);
        try
        {
            return Decide(layers, statuses, cost, time, hashes);
        }
        finally
        {
            ExitAll(layers, hashes, lockOrder);
        }
    }

    /// <summary>
    /// One layer, the most common request: the same semantics as <see cref="Decide"/>, with one stripe lock, no lock
    /// ordering and, for a one-rate layer of a one-slot algorithm, nothing but locals.
    /// </summary>
    private RateLimitDecision AcquireOne(ReadOnlySpan<LayerKey> layers, Span<RateStatus> statuses, long cost)
    {
        var (layer, key) = layers[0];
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(key);
        var table = GetTable(layer);
        var hash = key.GetHashCode();
        var shard = table.Shard(table.ShardIndex(hash));
        var now = _clock.Now();
        shard.Enter();
        try
        {
            var rates = table.RatesFor(layer, key, out var isOverride);
            if (rates.Length != 1 || table.SlotsPerRate != 1 || statuses.IsEmpty)
            {
                return Decide(layers, statuses, cost, now, new ReadOnlySpan<int>(in hash));
            }

            var rate = rates[0];
            var index = shard.Find(key, hash);
            var check = CheckSlot(table.Kind, index >= 0 ? shard.GetSlot(index, 0) : 0, rate, now, cost);
            if (check.Allowed)
            {
                var leaseId = 0L;
                if (cost > 0)
                {
                    index = index >= 0 ? index : shard.FindOrInsert(key, hash, now);
                    shard.SetSlot(index, 0, check.NewState);
                    shard.SetExpiry(index, check.ExpiresAtMicros);
                    shard.MaybeSweep(now);
                    leaseId = table.Kind == RateLimitAlgorithm.Concurrency ? ((Interlocked.Increment(ref _nextLeaseSequence) & 0x7FFF_FFFF) << 32) | 1 : 0;
                }
                else
                {
                    check = CheckSlot(table.Kind, index >= 0 ? shard.GetSlot(index, 0) : 0, rate, now, 0);
                }

                statuses[0] = new RateStatus(0, 0, rate, check.Remaining, check.ResetAtMicros, 0, RateOutcome.Allowed, isOverride);
                return new RateLimitDecision(true, 0, -1, 1, leaseId, now);
            }

            var retryAfter = check.RetryAfterMicros > 0 ? check.RetryAfterMicros + _clock.SlackMicros : check.RetryAfterMicros;
            var shadow = layer.IsShadow;
            statuses[0] = new RateStatus(0, 0, rate, check.Remaining, check.ResetAtMicros, retryAfter, shadow ? RateOutcome.ShadowDenied : RateOutcome.Denied, isOverride);
            return shadow ? new RateLimitDecision(true, 0, -1, 1, 0, now) : new RateLimitDecision(false, retryAfter, 0, 1, 0, now);
        }
        finally
        {
            shard.Exit();
        }
    }

    /// <summary>
    /// A few layers, each of one rate of a one-slot algorithm (fixed window, token bucket, concurrency): the semantics
    /// of <see cref="Decide"/> in straight-line code. Every key's entry is prefetched before any lock is taken, so that
    /// the layers' cache misses overlap. The stripes are then taken with a try-lock, in the request's order: a stripe
    /// that is held (by another decision, or because two layers of the request share it) releases every stripe taken so
    /// far and sends the request down the general path, which waits for its locks in the global order. This path never
    /// waits while it holds a lock, so the two cannot deadlock, and without contention it needs no sort. Every rate is
    /// then checked, and the charges are plain stores of the states computed while checking, made only if the request
    /// passed.
    /// </summary>
    /// <remarks>
    /// Returns <see langword="false"/> when the request does not fit (several rates in force, a multi-slot algorithm, a
    /// stripe held): nothing was charged, and the caller takes the general path with <c>fallbackNow</c>, the time
    /// already read (null when the layers showed it before the clock was read).
    /// </remarks>
    private bool TryAcquireLean(ReadOnlySpan<LayerKey> layers, Span<RateStatus> statuses, long cost, out RateLimitDecision decision, out long? fallbackNow)
    {
        decision = default;
        fallbackNow = null;
        var count = layers.Length;
        var scratch = default(InlineBuffers.LeanLayerArray);
        ref var first = ref InlineBuffers.First(ref scratch);
        for (var i = 0; i < count; i++)
        {
            ref var lean = ref Unsafe.Add(ref first, i);
            var (layer, key) = layers[i];
            ArgumentNullException.ThrowIfNull(layer);
            ArgumentNullException.ThrowIfNull(key);
            var table = GetTable(layer);
            if (table.SlotsPerRate != 1 || layer.RateArray.Length != 1)
            {
                return false;
            }

            // Layers often share one key string (the client IP of global-ip and auth): hash it once.
            var hash = HashOnce(layers, ref first, i, key);
            var shard = table.Shard(table.ShardIndex(hash));
            shard.Prefetch(hash);
            lean.Hash = hash;
            lean.Shard = shard;
            lean.Table = table;
        }

        var now = _clock.Now();
        for (var i = 0; i < count; i++)
        {
            if (!Unsafe.Add(ref first, i).Shard!.TryEnter())
            {
                ExitLean(ref first, i);
                fallbackNow = now;
                return false;
            }
        }

        try
        {
            var allowed = true;
            var passed = 0u;
            for (var i = 0; i < count; i++)
            {
                ref var lean = ref Unsafe.Add(ref first, i);
                var (layer, key) = layers[i];
                var table = lean.Table!;
                var shard = lean.Shard!;
                var rates = table.RatesFor(layer, key, out var isOverride);
                if (rates.Length != 1)
                {
                    fallbackNow = now;
                    return false;
                }

                var rate = rates[0];
                var index = shard.Find(key, lean.Hash);
                lean.Index = index;
                var check = CheckSlot(table.Kind, index >= 0 ? shard.GetSlot(index, 0) : 0, rate, now, cost);
                if (check.Allowed)
                {
                    passed |= 1u << i;
                    lean.State = check.NewState;
                    lean.Expiry = check.ExpiresAtMicros;
                    statuses[i] = new RateStatus(i, 0, rate, check.Remaining, check.ResetAtMicros, 0, RateOutcome.Allowed, isOverride);
                }
                else
                {
                    var shadow = layer.IsShadow;
                    allowed &= shadow;
                    var retryAfter = check.RetryAfterMicros > 0 ? check.RetryAfterMicros + _clock.SlackMicros : check.RetryAfterMicros;
                    statuses[i] = new RateStatus(i, 0, rate, check.Remaining, check.ResetAtMicros, retryAfter, shadow ? RateOutcome.ShadowDenied : RateOutcome.Denied, isOverride);
                }
            }

            if (cost == 0)
            {
                decision = allowed ? new RateLimitDecision(true, 0, -1, count, 0, now) : RateLimitDecision.Denial(statuses[..count], now);
                return true;
            }

            if (!allowed)
            {
                // Nothing is charged: the layers that had room report their state as it is.
                for (var i = 0; i < count; i++)
                {
                    if ((passed & (1u << i)) != 0)
                    {
                        ref var lean = ref Unsafe.Add(ref first, i);
                        ref var status = ref statuses[i];
                        var check = CheckSlot(lean.Table!.Kind, lean.Index >= 0 ? lean.Shard!.GetSlot(lean.Index, 0) : 0, status.Rate, now, 0);
                        status = new RateStatus(i, 0, status.Rate, check.Remaining, check.ResetAtMicros, 0, RateOutcome.Allowed, status.IsOverride);
                    }
                }

                decision = RateLimitDecision.Denial(statuses[..count], now);
                return true;
            }

            var permits = 0u;
            for (var i = 0; i < count; i++)
            {
                if ((passed & (1u << i)) == 0)
                {
                    // A shadow layer that would have denied: not charged, so its state is reported as it is.
                    continue;
                }

                ref var lean = ref Unsafe.Add(ref first, i);
                var shard = lean.Shard!;
                var index = lean.Index >= 0 ? lean.Index : shard.FindOrInsert(layers[i].Key, lean.Hash, now);
                shard.SetSlot(index, 0, lean.State);
                shard.SetExpiry(index, lean.Expiry);
                permits |= lean.Table!.Kind == RateLimitAlgorithm.Concurrency ? 1u << i : 0;
                shard.MaybeSweep(now);
            }

            var leaseId = permits == 0 ? 0 : ((Interlocked.Increment(ref _nextLeaseSequence) & 0x7FFF_FFFF) << 32) | permits;
            decision = new RateLimitDecision(true, 0, -1, count, leaseId, now);
            return true;
        }
        finally
        {
            ExitLean(ref first, count);
        }
    }

    /// <summary>
    /// Unlocks the first <paramref name="count"/> layers' stripes, in reverse. A method of its own: a loop inside a
    /// <c>finally</c> keeps the JIT from tiering the decision up with profile data.
    /// </summary>
    private static void ExitLean(ref InlineBuffers.LeanLayer first, int count)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            Unsafe.Add(ref first, i).Shard!.Exit();
        }
    }

    /// <summary>The hash of an earlier layer's key when it is the same string instance, else the key's own.</summary>
    private static int HashOnce(ReadOnlySpan<LayerKey> layers, ref InlineBuffers.LeanLayer first, int i, string key)
    {
        for (var j = 0; j < i; j++)
        {
            if (ReferenceEquals(layers[j].Key, key))
            {
                return Unsafe.Add(ref first, j).Hash;
            }
        }

        return key.GetHashCode();
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

        var now = _clock.Now();
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
            shard.Enter();
            try
            {
                var index = shard.Find(key, hash);
                if (index >= 0)
                {
                    shard.SetExpiry(index, table.Algorithm.Release(shard.Slots(index, 0), default, now));
                }
            }
            finally
            {
                shard.Exit();
            }
        }
    }

    /// <inheritdoc />
    public override ValueTask SetOverrideAsync(RateLimitLayer layer, string key, IReadOnlyList<Rate> rates, CancellationToken cancellationToken = default)
    {
        ValidateOverride(layer, key, rates);
        var table = GetTable(layer);
        Rate[] copy = [.. rates];
        var now = _clock.Now();
        WithKeyLocked(table, key, () =>
        {
            CarryUsage(table, key, table.RatesFor(layer, key, out _), copy, now);
            table.SetOverride(key, copy);
        });
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask<bool> RemoveOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(key);
        var table = GetTable(layer);
        var removed = false;
        var now = _clock.Now();
        WithKeyLocked(table, key, () =>
        {
            if (table.Overrides.TryGetValue(key, out var current))
            {
                CarryUsage(table, key, current, layer.RateArray, now, keepHidden: true);
            }

            removed = table.RemoveOverride(key);
        });
        return ValueTask.FromResult(removed);
    }

    /// <inheritdoc />
    public override ValueTask<IReadOnlyList<Rate>?> GetOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(key);
        return ValueTask.FromResult<IReadOnlyList<Rate>?>(GetTable(layer).Overrides.TryGetValue(key, out var rates) ? rates : null);
    }

    /// <summary>
    /// Hashes every key and computes its place in the global lock order (table, stripe, position). With
    /// <paramref name="oneSlotOnly"/>, stops and returns false at a layer that is not one rate of a one-slot algorithm.
    /// </summary>
    private bool Resolve(ReadOnlySpan<LayerKey> layers, Span<int> hashes, Span<long> order, bool oneSlotOnly)
    {
        for (var i = 0; i < layers.Length; i++)
        {
            var (layer, key) = layers[i];
            ArgumentNullException.ThrowIfNull(layer);
            ArgumentNullException.ThrowIfNull(key);
            var table = GetTable(layer);
            if (oneSlotOnly && (table.SlotsPerRate != 1 || layer.RateArray.Length != 1))
            {
                return false;
            }

            var hash = key.GetHashCode();
            hashes[i] = hash;
            order[i] = ((long)table.Order << 40) | ((long)table.ShardIndex(hash) << 8) | (uint)i;
        }

        return true;
    }

    /// <summary>
    /// Under the key's stripe lock, before its rates change from <paramref name="from"/> to <paramref name="to"/>:
    /// each rate whose period changes has its state rewritten in the new period's terms, keeping the usage in force
    /// (a count in its window, a sliding window's sum). Rates whose period stays keep their state as it is, and so their
    /// count; rates the key did not have yet start empty.
    /// </summary>
    /// <param name="table">The layer's table.</param>
    /// <param name="key">The key.</param>
    /// <param name="from">The rates in force until now.</param>
    /// <param name="to">The rates in force from now on.</param>
    /// <param name="now">The time.</param>
    /// <param name="keepHidden">
    /// As an override is removed: the entry's expiry came from the override's rates, while the layer's rates the
    /// override hid still hold their state, which counts again now. The entry is then kept for two of the layer's
    /// longest periods, which covers any of those states (a sliding window's oldest segment included).
    /// </param>
    private static void CarryUsage(LayerTable table, string key, Rate[] from, Rate[] to, long now, bool keepHidden = false)
    {
        var hash = key.GetHashCode();
        var shard = table.Shard(table.ShardIndex(hash));
        var index = shard.Find(key, hash);
        if (index >= 0)
        {
            table.CarryEntry(shard, index, from, to, now);
            if (keepHidden)
            {
                shard.ExtendExpiry(index, now + (2 * to.Max(r => r.PeriodMicros)));
            }
        }
    }

    /// <summary>Overrides change under the key's stripe lock, so one decision sees the same rates in all its phases.</summary>
    private static void WithKeyLocked(LayerTable table, string key, Action change)
    {
        var shard = table.Shard(table.ShardIndex(key.GetHashCode()));
        shard.Enter();
        try
        {
            change();
        }
        finally
        {
            shard.Exit();
        }
    }

    private LayerShard ShardOf(in LayerKey layer, int hash)
    {
        var table = GetTable(layer.Layer);
        return table.Shard(table.ShardIndex(hash));
    }

    private void EnterAll(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<int> hashes, ReadOnlySpan<long> lockOrder)
    {
        LayerShard? previous = null;
        foreach (var entry in lockOrder)
        {
            var i = (int)(entry & 0xFF);
            var shard = ShardOf(layers[i], hashes[i]);
            if (!ReferenceEquals(shard, previous))
            {
                shard.Enter();
                previous = shard;
            }
        }
    }

    private void ExitAll(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<int> hashes, ReadOnlySpan<long> lockOrder)
    {
        LayerShard? previous = null;
        for (var n = lockOrder.Length - 1; n >= 0; n--)
        {
            var i = (int)(lockOrder[n] & 0xFF);
            var shard = ShardOf(layers[i], hashes[i]);
            if (!ReferenceEquals(shard, previous))
            {
                shard.Exit();
                previous = shard;
            }
        }
    }

    /// <summary>Runs with every stripe of the request locked: decides every rate, then charges only if the request passes.</summary>
    private RateLimitDecision Decide(ReadOnlySpan<LayerKey> layers, Span<RateStatus> statuses, long cost, long now, ReadOnlySpan<int> hashes)
    {
        var count = layers.Length;
        Unsafe.SkipInit(out InlineBuffers.LayerInts indexBuffer);
        Unsafe.SkipInit(out InlineBuffers.LayerInts versionBuffer);
        Unsafe.SkipInit(out InlineBuffers.LayerLongs expiryBuffer);
        Unsafe.SkipInit(out InlineBuffers.LayerInts rateCountBuffer);
        Unsafe.SkipInit(out InlineBuffers.StatusLongs newStateBuffer);
        Span<int> indexes = indexBuffer;
        Span<int> versions = versionBuffer;
        Span<long> expiries = expiryBuffer;
        Span<int> rateCounts = rateCountBuffer;
        Span<long> newStates = newStateBuffer;
        ReadOnlySpan<long> unseen = s_unseenKeyState;
        var layerAllowed = 0u;
        var allowed = true;
        var status = 0;

        // Phase 1: every rate of every layer decides; nothing changes.
        for (var i = 0; i < count; i++)
        {
            var (layer, key) = layers[i];
            var table = GetTable(layer);
            var shard = table.Shard(table.ShardIndex(hashes[i]));
            var rates = table.RatesFor(layer, key, out var isOverride);
            if (status + rates.Length > statuses.Length)
            {
                throw new ArgumentException($"The status buffer holds {statuses.Length} entries; this request needs {StatusesNeeded(layers)}.", nameof(statuses));
            }

            var algorithm = table.Algorithm;
            var slots = table.SlotsPerRate;
            shard.EnsureStride(rates.Length * slots, now);
            var index = shard.Find(key, hashes[i]);
            indexes[i] = index;
            versions[i] = shard.Version;
            var passed = true;
            var expiry = long.MinValue;
            for (var r = 0; r < rates.Length; r++)
            {
                var check = slots == 1
                    ? CheckSlot(table.Kind, index >= 0 ? shard.GetSlot(index, r) : 0, rates[r], now, cost)
                    : index >= 0
                        ? algorithm.Check(shard.Slots(index, r * slots), rates[r], now, cost)
                        : algorithm.Check(RateSlots.Unseen(unseen), rates[r], now, cost);
                passed &= check.Allowed;
                newStates[status] = check.NewState;
                expiry = Math.Max(expiry, check.ExpiresAtMicros);
                var retryAfter = check.RetryAfterMicros > 0 ? check.RetryAfterMicros + _clock.SlackMicros : check.RetryAfterMicros;
                var outcome = check.Allowed ? RateOutcome.Allowed : layer.IsShadow ? RateOutcome.ShadowDenied : RateOutcome.Denied;
                statuses[status++] = new RateStatus(i, r, rates[r], check.Remaining, check.ResetAtMicros, retryAfter, outcome, isOverride);
            }

            expiries[i] = expiry;
            rateCounts[i] = rates.Length;
            layerAllowed |= passed ? 1u << i : 0;
            allowed &= passed || layer.IsShadow;
        }

        // Phase 2: charge every layer that had room, but only if the request as a whole passed.
        var charged = 0u;
        if (allowed && cost > 0)
        {
            var first = 0;
            for (var i = 0; i < count; i++)
            {
                var (layer, key) = layers[i];
                var table = GetTable(layer);
                var shard = table.Shard(table.ShardIndex(hashes[i]));
                var rateCount = rateCounts[i];
                if ((layerAllowed & (1u << i)) != 0)
                {
                    var index = indexes[i] >= 0 && versions[i] == shard.Version ? indexes[i] : shard.FindOrInsert(key, hashes[i], now);
                    if (table.SlotsPerRate == 1)
                    {
                        // One-slot algorithms computed the new state while checking: the charge is a store.
                        for (var r = 0; r < rateCount; r++)
                        {
                            shard.SetSlot(index, r, newStates[first + r]);
                        }

                        shard.SetExpiry(index, expiries[i]);
                    }
                    else
                    {
                        var rates = table.RatesFor(layer, key, out _);
                        var expiry = long.MinValue;
                        for (var r = 0; r < rates.Length; r++)
                        {
                            expiry = Math.Max(expiry, table.Algorithm.Apply(shard.Slots(index, r * table.SlotsPerRate), rates[r], now, cost));
                        }

                        shard.SetExpiry(index, expiry);
                    }

                    charged |= 1u << i;
                }

                first += rateCount;
            }

            for (var i = 0; i < count; i++)
            {
                ShardOf(layers[i], hashes[i]).MaybeSweep(now);
            }
        }

        // A layer that was not charged reports its state as it is, not as it would have been after the charge.
        var everyLayer = count == 32 ? uint.MaxValue : (1u << count) - 1;
        if (charged != everyLayer)
        {
            RestateUncharged(layers, statuses[..status], now, hashes, charged);
        }

        return Summarize(layers, statuses[..status], allowed, charged, now);
    }

    /// <summary>One-slot algorithms, called directly so that the JIT inlines them into the decision.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static RateCheck CheckSlot(RateLimitAlgorithm kind, long slot, Rate rate, long now, long cost) => kind switch
    {
        RateLimitAlgorithm.FixedWindow => FixedWindowAlgorithm.CheckSlot(slot, rate, now, cost),
        RateLimitAlgorithm.TokenBucket => TokenBucketAlgorithm.CheckSlot(slot, rate, now, cost),
        _ => ConcurrencyAlgorithm.CheckSlot(slot, rate, now, cost),
    };

    private int StatusesNeeded(ReadOnlySpan<LayerKey> layers)
    {
        var needed = 0;
        foreach (var (layer, key) in layers)
        {
            needed += GetTable(layer).RatesFor(layer, key, out _).Length;
        }

        return needed;
    }

    private void RestateUncharged(ReadOnlySpan<LayerKey> layers, Span<RateStatus> statuses, long now, ReadOnlySpan<int> hashes, uint charged)
    {
        ReadOnlySpan<long> unseen = s_unseenKeyState;
        foreach (ref var entry in statuses)
        {
            var i = entry.LayerIndex;
            if ((charged & (1u << i)) != 0 || entry.Outcome != RateOutcome.Allowed)
            {
                continue;
            }

            var table = GetTable(layers[i].Layer);
            var shard = table.Shard(table.ShardIndex(hashes[i]));
            var index = shard.Find(layers[i].Key, hashes[i]);
            var offset = entry.RateIndex * table.SlotsPerRate;
            var check = index >= 0
                ? table.Algorithm.Check(shard.Slots(index, offset), entry.Rate, now, 0)
                : table.Algorithm.Check(RateSlots.Unseen(unseen), entry.Rate, now, 0);
            entry = new RateStatus(i, entry.RateIndex, entry.Rate, check.Remaining, check.ResetAtMicros, 0, RateOutcome.Allowed, entry.IsOverride);
        }
    }

    private RateLimitDecision Summarize(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses, bool allowed, uint charged, long now)
    {
        if (allowed)
        {
            var permits = 0u;
            for (var i = 0; i < layers.Length; i++)
            {
                if ((charged & (1u << i)) != 0 && layers[i].Layer.Algorithm == RateLimitAlgorithm.Concurrency)
                {
                    permits |= 1u << i;
                }
            }

            var leaseId = permits == 0 ? 0 : ((Interlocked.Increment(ref _nextLeaseSequence) & 0x7FFF_FFFF) << 32) | permits;
            return new RateLimitDecision(true, 0, -1, statuses.Length, leaseId, now);
        }

        return RateLimitDecision.Denial(statuses, now);
    }

    private static T Locked<T>(LayerShard shard, Func<LayerShard, T> read)
    {
        shard.Enter();
        try
        {
            return read(shard);
        }
        finally
        {
            shard.Exit();
        }
    }

    /// <summary>Insertion sort: a request names a handful of layers, where a general sort costs more than the work.</summary>
    private static void SortSmall(Span<long> values)
    {
        for (var i = 1; i < values.Length; i++)
        {
            var value = values[i];
            var j = i - 1;
            while (j >= 0 && values[j] > value)
            {
                values[j + 1] = values[j];
                j--;
            }

            values[j + 1] = value;
        }
    }

    private LayerTable GetTable(RateLimitLayer layer)
    {
        var byId = Volatile.Read(ref _tablesById);
        if ((uint)layer.CacheSlot < (uint)byId.Length && byId[layer.CacheSlot] is { } cached)
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

        // Cache by layer identity so the hot path skips hashing the name; layers past the first 2^20 (built per request) are not cached.
        if (layer.CacheSlot >= 0)
        {
            // A layer object newer than the one the table follows (a configuration reload) first rewrites the state of
            // every rate whose period it changes; its decisions wait for that here, before it is cached.
            table.Adopt(layer, _clock);

            lock (_tablesGate)
            {
                var byId = _tablesById;
                if (layer.CacheSlot >= byId.Length)
                {
                    Array.Resize(ref byId, Math.Max(layer.CacheSlot + 1, byId.Length * 2));
                }

                byId[layer.CacheSlot] = table;
                Volatile.Write(ref _tablesById, byId);
            }
        }

        return table;
    }
}
