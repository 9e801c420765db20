using System.Collections.Concurrent;

namespace Sluice.Testing;

/// <summary>
/// Forwards every call to a real store and remembers every key it was asked about. Being another type than the store
/// it wraps, it also sends integrations down the paths they take for stores outside the library; with
/// <see cref="YieldFirst"/>, its decisions complete asynchronously, as a network store's do.
/// </summary>
public sealed class RecordingStore(RateLimitStore inner) : RateLimitStore
{
    /// <summary>Every key named in a decision or an override change, in no particular order.</summary>
    public ConcurrentBag<string> Keys { get; } = [];

    /// <summary>Whether each decision first yields the thread, so that it never completes synchronously.</summary>
    public bool YieldFirst { get; init; }

    public override int MaxLayersPerDecision => inner.MaxLayersPerDecision;

    public override async ValueTask<RateLimitDecision> AcquireAsync(ReadOnlyMemory<LayerKey> layers, Memory<RateStatus> statuses, long cost = 1, CancellationToken cancellationToken = default)
    {
        foreach (var layer in layers.Span)
        {
            Keys.Add(layer.Key);
        }

        if (YieldFirst)
        {
            await Task.Yield();
        }

        return await inner.AcquireAsync(layers, statuses, cost, cancellationToken);
    }

    public override ValueTask ReleaseAsync(ReadOnlyMemory<LayerKey> layers, long leaseId, CancellationToken cancellationToken = default)
        => inner.ReleaseAsync(layers, leaseId, cancellationToken);

    public override ValueTask SetOverrideAsync(RateLimitLayer layer, string key, IReadOnlyList<Rate> rates, CancellationToken cancellationToken = default)
    {
        Keys.Add(key);
        return inner.SetOverrideAsync(layer, key, rates, cancellationToken);
    }

    public override ValueTask<bool> RemoveOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default)
        => inner.RemoveOverrideAsync(layer, key, cancellationToken);

    public override ValueTask<IReadOnlyList<Rate>?> GetOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default)
        => inner.GetOverrideAsync(layer, key, cancellationToken);
}
