using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Sluice.Algorithms;

namespace Sluice.Memory;

/// <summary>
/// One lock stripe of a layer's keys: an open-addressing hash table (linear probing) of 24-byte entries holding the
/// key, its hash, its expiry and its first state slot, with any further slots in a parallel array. Callers hold the
/// gate (<see cref="Enter"/>/<see cref="Exit"/>) for every other call.
/// </summary>
/// <remarks>
/// Entries are never removed one by one; a rebuild copies the live ones into fresh arrays. A rebuild happens when the
/// table would pass three quarters full (first dropping keys whose windows have all passed, then growing only if the
/// live keys still need the room, or shrinking when few are left) and, at most once per sweep interval, inside a
/// decision when a scan finds that at least a quarter of the keys have expired. No key is dropped before its expiry,
/// which is rounded up to the next whole second, nor a key with an override (its entry also holds the state of the
/// layer's rates the override hides, whose windows may outlast the override's own).
/// </remarks>
internal sealed class LayerShard
{
    private const int MinCapacity = 8;

    private readonly long _epochMicros;
    private readonly long _sweepIntervalMicros;
    private readonly ConcurrentDictionary<string, Rate[]> _pinned;
    private SpinGate _gate;
    private Entry[] _entries = new Entry[MinCapacity];

    /// <summary>
    /// <c>_entries.Length - 1</c>, kept in this object (changed with <see cref="_entries"/>, under the gate): computing a
    /// key's slot then needs no read of the array's header, which at scale is a cache miss of its own.
    /// </summary>
    private int _mask = MinCapacity - 1;
    private long[] _more;
    private int _stride;
    private readonly Func<LayerShard, int, long, bool> _holdsUsage;
    private int _count;
    private long _nextSweepMicros;

    /// <param name="stride">State slots per key.</param>
    /// <param name="epochMicros">The store's epoch: expiries are seconds after it.</param>
    /// <param name="sweepIntervalMicros">How often a decision may sweep the stripe.</param>
    /// <param name="pinned">Keys never reclaimed (the layer's overrides), read only when the stripe is rebuilt.</param>
    /// <param name="holdsUsage">
    /// Whether the entry at an index, whose expiry has passed, still counts usage (under a rate its expiry did not
    /// cover: one a reload dropped, or brought back): such an entry is kept. Asked only when the stripe is rebuilt.
    /// </param>
    public LayerShard(int stride, long epochMicros, long sweepIntervalMicros, ConcurrentDictionary<string, Rate[]> pinned, Func<LayerShard, int, long, bool> holdsUsage)
    {
        _pinned = pinned;
        _holdsUsage = holdsUsage;
        _stride = stride;
        _more = new long[MinCapacity * (stride - 1)];
        _epochMicros = epochMicros;
        _sweepIntervalMicros = sweepIntervalMicros;
        _nextSweepMicros = epochMicros + sweepIntervalMicros;
    }

    /// <summary>Changes whenever entries move, so that an index found earlier under the same lock can be trusted.</summary>
    public int Version { get; private set; }

    /// <summary>State slots per key.</summary>
    public int Stride => _stride;

    public int Count => _count;

    /// <summary>Entry slots, filled or not: indexes below it are valid for <see cref="KeyAt"/> until the next rebuild.</summary>
    public int Capacity => _entries.Length;

    /// <summary>The key at <paramref name="index"/>, or null for an empty slot.</summary>
    public string? KeyAt(int index) => _entries[index].Key;

    /// <summary>Bytes held by this stripe's arrays.</summary>
    public long AllocatedBytes => ((long)_entries.Length * 24) + ((long)_more.Length * 8);

    public void Enter() => _gate.Enter();

    /// <summary>Takes the gate if it is free; never waits.</summary>
    public bool TryEnter() => _gate.TryEnter();

    public void Exit() => _gate.Exit();

    /// <summary>
    /// Hints the processor to fetch the entry where a search for <paramref name="hash"/> starts, without the gate: a
    /// decision over several layers issues these first so that their cache misses overlap instead of queuing behind
    /// each lock. Reads nothing and changes nothing.
    /// </summary>
    /// <remarks>
    /// Without the gate, <see cref="_entries"/> and <see cref="_mask"/> may come from two sides of a rebuild, so the
    /// address is computed as a number, never as a reference, and may lie past the array: a prefetch never faults.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(int hash)
    {
        if (Sse.IsSupported)
        {
            // The array's address as a number: no null check, so the array's header is not read either.
            var array = (byte*)Unsafe.As<Entry[], nint>(ref _entries);
            Sse.Prefetch0(array + (2 * sizeof(nint)) + ((nint)(Start(hash) & Volatile.Read(ref _mask)) * Unsafe.SizeOf<Entry>()));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(string key, int hash)
    {
        // Under the gate: _mask is _entries.Length - 1, so every index below is in bounds.
        ref var first = ref MemoryMarshal.GetArrayDataReference(_entries);
        var mask = _mask;
        var i = Start(hash) & mask;
        while (true)
        {
            ref var entry = ref Unsafe.Add(ref first, i);
            if (entry.Key is null)
            {
                return -1;
            }

            if (entry.Hash == hash && (ReferenceEquals(entry.Key, key) || string.Equals(entry.Key, key, StringComparison.Ordinal)))
            {
                return i;
            }

            i = (i + 1) & mask;
        }
    }

    public int FindOrInsert(string key, int hash, long now)
    {
        var found = Find(key, hash);
        if (found >= 0)
        {
            return found;
        }

        if ((_count + 1) * 4 > _entries.Length * 3)
        {
            Rebuild(CapacityFor(CountLive(now) + 1), _stride, now);
        }

        var index = Place(_entries, key, hash);
        _entries[index] = new Entry(key, hash);
        _more.AsSpan(index * (_stride - 1), _stride - 1).Clear();
        _count++;
        return index;
    }

    /// <summary>The slots of the rate whose first slot is <paramref name="offset"/>, for the key at <paramref name="index"/>.</summary>
    public RateSlots Slots(int index, int offset) => new(ref _entries[index].State, _more.AsSpan(index * (_stride - 1), _stride - 1), offset);

    /// <summary>Reads one state slot of the key at <paramref name="index"/>.</summary>
    public long GetSlot(int index, int slot) => slot == 0 ? Entry0(index).State : _more[(index * (_stride - 1)) + slot - 1];

    /// <summary>Writes one state slot of the key at <paramref name="index"/>.</summary>
    public void SetSlot(int index, int slot, long value)
    {
        if (slot == 0)
        {
            Entry0(index).State = value;
        }
        else
        {
            _more[(index * (_stride - 1)) + slot - 1] = value;
        }
    }

    /// <summary>Sets when the entry's state is empty again; it is reclaimable from then on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetExpiry(int index, long expiresAtMicros)
    {
        var seconds = expiresAtMicros == long.MaxValue
            ? int.MaxValue
            : Math.Clamp(Microseconds.CeilingSeconds(expiresAtMicros - _epochMicros), 0, int.MaxValue);
        Entry0(index).ExpirySeconds = (int)seconds;
    }

    /// <summary>Moves the entry's expiry later, to <paramref name="expiresAtMicros"/>, never earlier.</summary>
    public void ExtendExpiry(int index, long expiresAtMicros)
    {
        var before = Entry0(index).ExpirySeconds;
        SetExpiry(index, expiresAtMicros);
        Entry0(index).ExpirySeconds = Math.Max(before, Entry0(index).ExpirySeconds);
    }

    public void EnsureStride(int stride, long now)
    {
        if (stride > _stride)
        {
            Rebuild(_entries.Length, stride, now);
        }
    }

    /// <summary>Reclaims expired keys if a sweep is due and worth it. Moves entries: call after the last use of an index.</summary>
    public void MaybeSweep(long now)
    {
        if (now >= _nextSweepMicros)
        {
            Sweep(now);
        }
    }

    private void Sweep(long now)
    {
        _nextSweepMicros = now + _sweepIntervalMicros;
        var live = CountLive(now);
        if ((_count - live) * 4 >= _count && _count > live)
        {
            Rebuild(CapacityFor(live), _stride, now);
        }
    }

    /// <summary>
    /// The entry at <paramref name="index"/>, an index that <see cref="Find"/> or <see cref="FindOrInsert"/> returned
    /// under the gate since the last rebuild (callers check <see cref="Version"/>): in bounds, so the array's header
    /// is not read for a bounds check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Entry Entry0(int index)
    {
        Debug.Assert((uint)index < (uint)_entries.Length, "An index from Find under the gate is in bounds.");
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), index);
    }

    private static int Start(int hash) => (int)uint.RotateRight((uint)hash, 12);

    private static int Place(Entry[] entries, string key, int hash)
    {
        var mask = entries.Length - 1;
        var i = Start(hash) & mask;
        while (entries[i].Key is not null)
        {
            i = (i + 1) & mask;
        }

        return i;
    }

    private static int CapacityFor(int live)
    {
        var capacity = MinCapacity;
        while (live * 4 > capacity * 3)
        {
            capacity *= 2;
        }

        // Leave room for growth so that a steady population does not rebuild on every insert.
        return live * 2 > capacity ? capacity * 2 : capacity;
    }

    /// <summary>
    /// Whether the entry at <paramref name="index"/> can go: its state is empty by its expiry, it has no override, and no
    /// rate still counts in it (a decision under fewer rates than the entry holds sets the expiry from those alone, which
    /// keeps the decision paths as they are; the others are looked at here, only for an expired entry of a stripe being
    /// rebuilt).
    /// </summary>
    private bool IsReclaimable(int index, long now)
    {
        ref readonly var entry = ref _entries[index];
        return _epochMicros + ((long)entry.ExpirySeconds * 1_000_000) <= now
            && !_pinned.ContainsKey(entry.Key!)
            && !_holdsUsage(this, index, now);
    }

    private int CountLive(long now)
    {
        var live = 0;
        for (var i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].Key is not null && !IsReclaimable(i, now))
            {
                live++;
            }
        }

        return live;
    }

    private void Rebuild(int capacity, int stride, long now)
    {
        var entries = new Entry[capacity];
        var more = new long[capacity * (stride - 1)];
        var count = 0;
        var oldRest = _stride - 1;
        for (var i = 0; i < _entries.Length; i++)
        {
            ref readonly var entry = ref _entries[i];
            if (entry.Key is null || IsReclaimable(i, now))
            {
                continue;
            }

            var index = Place(entries, entry.Key, entry.Hash);
            entries[index] = entry;
            _more.AsSpan(i * oldRest, oldRest).CopyTo(more.AsSpan(index * (stride - 1), oldRest));
            count++;
        }

        _entries = entries;
        Volatile.Write(ref _mask, capacity - 1);
        _more = more;
        _stride = stride;
        _count = count;
        Version++;
    }

    private struct Entry(string key, int hash)
    {
        public readonly string? Key = key;
        public readonly int Hash = hash;

        /// <summary>Seconds after the store's epoch at which the state is empty; <see cref="int.MaxValue"/> for never.</summary>
        public int ExpirySeconds;

        /// <summary>State slot 0, kept with the key so that a one-slot rate costs one cache line.</summary>
        public long State;
    }
}
