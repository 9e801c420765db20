namespace Sluice.Quotas;

/// <summary>
/// Counts distinct items per subject per calendar period, exactly and durably, and refuses new items past a limit.
/// Implementations: <see cref="MemoryQuotaStore"/> (tests, single process), <c>SqliteQuotaStore</c> (the embedded
/// default) and <c>RedisQuotaStore</c>. All pass one contract suite.
/// </summary>
/// <remarks>
/// A quota is not a rate limit: it is business usage (what a plan pays for), it is never lost on restart, and its
/// denial is a different answer (403 rather than 429). Each charge is atomic: concurrent charges for different new
/// items never admit more than the limit, and an item already counted in the period is always allowed again without
/// charging, even when the quota is used up. Periods come from the store's <see cref="TimeProvider"/>.
/// </remarks>
public abstract class QuotaStore
{
    /// <summary>Counts <paramref name="request"/>'s item if it is new in the current period and there is room.</summary>
    /// <exception cref="QuotaStoreUnavailableException">The backing store could not be reached; nothing is known to be charged.</exception>
    public abstract ValueTask<QuotaDecision> ChargeAsync(QuotaRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Charges several items as if one after another, in order: each is charged, already counted or refused on its own
    /// (a refused item does not stop the ones after it, which may still be counted already). The default charges them
    /// one by one; stores override it to charge a batch in one transaction or round trip.
    /// </summary>
    /// <returns>One decision per request, in the same order.</returns>
    public virtual async ValueTask<IReadOnlyList<QuotaDecision>> ChargeManyAsync(IReadOnlyList<QuotaRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var decisions = new QuotaDecision[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            decisions[i] = await ChargeAsync(requests[i], cancellationToken).ConfigureAwait(false);
        }

        return decisions;
    }

    /// <summary>
    /// Takes back an item counted in the current period, for a caller that charged it and then could not deliver what it
    /// paid for (the certificate could not be stored). Returns false when the item was not counted.
    /// </summary>
    public abstract ValueTask<bool> RefundAsync(QuotaRequest request, CancellationToken cancellationToken = default);

    /// <summary>Reads the current period's usage of <paramref name="subject"/>'s quota without charging.</summary>
    public abstract ValueTask<QuotaUsage> GetUsageAsync(string quota, string subject, long limit, QuotaPeriod period, CancellationToken cancellationToken = default);

    /// <summary>Checks the arguments every store requires; stores call it first.</summary>
    protected static void Validate(in QuotaRequest request)
    {
        ArgumentException.ThrowIfNullOrEmpty(request.Quota, nameof(request.Quota));
        ArgumentException.ThrowIfNullOrEmpty(request.Subject, nameof(request.Subject));
        ArgumentException.ThrowIfNullOrEmpty(request.Item, nameof(request.Item));
        ArgumentOutOfRangeException.ThrowIfNegative(request.Limit, nameof(request.Limit));
    }
}
