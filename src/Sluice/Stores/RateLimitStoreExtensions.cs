namespace Sluice;

/// <summary>Conveniences over <see cref="RateLimitStore"/> that allocate their buffers.</summary>
public static class RateLimitStoreExtensions
{
    /// <summary>
    /// Decides one request and returns its decision with the per-rate statuses. Dispose the result to return any
    /// concurrency permits it holds. For allocation-free use, call <see cref="RateLimitStore.AcquireAsync"/> with your own buffers.
    /// </summary>
    public static async ValueTask<RateLimitResult> AcquireAsync(this RateLimitStore store, long cost, params LayerKey[] layers)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(layers);
        var statuses = new RateStatus[RateLimitStore.GetStatusCapacity(layers.Length)];
        var decision = await store.AcquireAsync(layers, statuses, cost).ConfigureAwait(false);
        return new RateLimitResult(store, layers, decision, statuses[..decision.StatusCount]);
    }

    /// <summary>Decides one request of cost 1. See <see cref="AcquireAsync(RateLimitStore, long, LayerKey[])"/>.</summary>
    public static ValueTask<RateLimitResult> AcquireAsync(this RateLimitStore store, params LayerKey[] layers) => store.AcquireAsync(1, layers);
}
