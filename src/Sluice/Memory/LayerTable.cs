using System.Collections.Concurrent;
using Sluice.Algorithms;

namespace Sluice.Memory;

/// <summary>The keys of one layer (by name, algorithm and segment count) in a <see cref="MemoryRateLimitStore"/>, striped by key hash.</summary>
internal sealed class LayerTable
{
    private readonly LayerShard[] _shards;
    private readonly int _shardMask;
    private readonly Adoption _adoption;
    private int _overrideCount;

    public LayerTable(int order, RateLimitLayer layer, int shardCount, long epochMicros, long sweepIntervalMicros)
    {
        Order = order;
        Algorithm = WindowAlgorithm.For(layer.Algorithm, layer.SlidingWindowSegments);
        SlotsPerRate = Algorithm.SlotsPerRate;
        Kind = layer.Algorithm;
        _adoption = new Adoption { LayerId = layer.Id, Rates = layer.RateArray };
        _shards = new LayerShard[shardCount];
        _shardMask = shardCount - 1;
        for (var i = 0; i < shardCount; i++)
        {
            _shards[i] = new LayerShard(layer.RateArray.Length * Algorithm.SlotsPerRate, epochMicros, sweepIntervalMicros, Overrides, HoldsUsage);
        }
    }

    /// <summary>Position in the store's lock order: stripes are locked by (table order, stripe index).</summary>
    public int Order { get; }

    public WindowAlgorithm Algorithm { get; }

    /// <summary>The algorithm's slots per rate, read once: the hot path avoids the virtual call.</summary>
    public int SlotsPerRate { get; }

    public RateLimitAlgorithm Kind { get; }

    public ConcurrentDictionary<string, Rate[]> Overrides { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<LayerShard> Shards => _shards;

    public int ShardIndex(int hash) => hash & _shardMask;

    public LayerShard Shard(int index) => _shards[index];

    /// <summary>
    /// Follows <paramref name="layer"/> when it is newer than the layer object the table follows (a configuration
    /// reload builds new ones): every key without an override has each fixed or sliding rate whose period changes
    /// rewritten at that moment, as an override does, so its usage in force is kept. Once per layer object, stripe by
    /// stripe under each stripe's lock; an older layer object never takes the table back. The clock is read only when
    /// a period changes.
    /// </summary>
    public void Adopt(RateLimitLayer layer, StoreClock clock)
    {
        var adoption = _adoption;
        if (layer.Id <= Volatile.Read(ref adoption.LayerId))
        {
            return;
        }

        lock (adoption)
        {
            if (layer.Id <= adoption.LayerId)
            {
                return;
            }

            var from = adoption.Rates;
            var to = layer.RateArray;
            if (Kind is RateLimitAlgorithm.FixedWindow or RateLimitAlgorithm.SlidingWindow && Rate.PeriodChanges(from, to))
            {
                var now = clock.Now();
                foreach (var shard in _shards)
                {
                    shard.Enter();
                    try
                    {
                        for (var index = 0; index < shard.Capacity; index++)
                        {
                            if (shard.KeyAt(index) is { } key && !Overrides.ContainsKey(key))
                            {
                                CarryEntry(shard, index, from, to, now);
                            }
                        }
                    }
                    finally
                    {
                        shard.Exit();
                    }
                }
            }

            Volatile.Write(ref adoption.Rates, Rate.Following(from, to));
            Volatile.Write(ref adoption.LayerId, layer.Id);
        }
    }

    /// <summary>
    /// Under the stripe's lock: the rates of the key at <paramref name="index"/> whose period changes from
    /// <paramref name="from"/> to <paramref name="to"/> are rewritten in the new period's terms, keeping the usage in
    /// force (a count in its window, a sliding window's sum). Rates whose period stays keep their state, and so their
    /// count; rates the key did not have yet start empty.
    /// </summary>
    public void CarryEntry(LayerShard shard, int index, Rate[] from, Rate[] to, long now)
    {
        var slots = SlotsPerRate;
        for (var r = 0; r < Math.Min(from.Length, to.Length) && (r + 1) * slots <= shard.Stride; r++)
        {
            if (from[r].PeriodMicros != to[r].PeriodMicros
                && Algorithm.Convert(shard.Slots(index, r * slots), from[r], to[r], now) is var expiry && expiry != long.MinValue)
            {
                shard.ExtendExpiry(index, expiry);
            }
        }
    }

    /// <summary>
    /// Under the stripe's lock, as it is rebuilt, for a key whose expiry has passed: whether any of its rates still counts
    /// usage at <paramref name="now"/>. A decision sets the expiry from the rates it decides with, so a rate a reload
    /// dropped (kept in its own period's terms, <see cref="Rate.Following"/>) is not covered by it, and neither is that
    /// rate once a later reload brings it back, until the key is next charged. Such usage still counts, as the Redis
    /// store keeps it until its key's TTL; the key is kept while it does.
    /// </summary>
    private bool HoldsUsage(LayerShard shard, int index, long now)
    {
        // Read without the adoption's lock: a reload takes that lock and then each stripe's, and this runs under a stripe's.
        var rates = Volatile.Read(ref _adoption.Rates);
        for (var r = 0; r < rates.Length && (r + 1) * SlotsPerRate <= shard.Stride; r++)
        {
            if (Algorithm.Check(shard.Slots(index, r * SlotsPerRate), rates[r], now, 0).Remaining < rates[r].Limit)
            {
                return true;
            }
        }

        return false;
    }

    public Rate[] RatesFor(RateLimitLayer layer, string key, out bool isOverride)
    {
        // Most layers never get an override: skip the dictionary's hashing in that case.
        if (Volatile.Read(ref _overrideCount) > 0 && Overrides.TryGetValue(key, out var rates))
        {
            isOverride = true;
            return rates;
        }

        isOverride = false;
        return layer.RateArray;
    }

    public void SetOverride(string key, Rate[] rates)
    {
        if (Overrides.TryAdd(key, rates))
        {
            Interlocked.Increment(ref _overrideCount);
        }
        else
        {
            Overrides[key] = rates;
        }
    }

    public bool RemoveOverride(string key)
    {
        if (Overrides.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _overrideCount);
            return true;
        }

        return false;
    }

    /// <summary>
    /// The layer object the table follows, kept apart from the table so that the fields every decision reads stay as
    /// they were (with three more fields here, and a 64-bit id compared in the lookup, the 1-layer decision measured
    /// 5–10 ns slower; see docs/benchmarks.md). Locked while a reload is adopted.
    /// </summary>
    private sealed class Adoption
    {
        public long LayerId;

        /// <summary>The rates the keys' state is in the terms of: the layer's, then those of rates a reload dropped (<see cref="Rate.Following"/>).</summary>
        public required Rate[] Rates;
    }
}
