using System.Collections.Concurrent;
using Sluice.Algorithms;

namespace Sluice.Memory;

/// <summary>The keys of one layer (by name, algorithm and segment count) in a <see cref="MemoryRateLimitStore"/>, striped by key hash.</summary>
internal sealed class LayerTable
{
    private readonly LayerShard[] _shards;
    private readonly int _shardMask;
    private int _overrideCount;

    public LayerTable(int order, RateLimitLayer layer, int shardCount, long epochMicros, long sweepIntervalMicros)
    {
        Order = order;
        Algorithm = WindowAlgorithm.For(layer.Algorithm, layer.SlidingWindowSegments);
        SlotsPerRate = Algorithm.SlotsPerRate;
        Kind = layer.Algorithm;
        _shards = new LayerShard[shardCount];
        _shardMask = shardCount - 1;
        for (var i = 0; i < shardCount; i++)
        {
            _shards[i] = new LayerShard(layer.RateArray.Length * Algorithm.SlotsPerRate, epochMicros, sweepIntervalMicros);
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
}
