using System.Globalization;
using System.Threading.RateLimiting;

namespace Sluice.RateLimiting;

/// <summary>
/// A lease over one store decision. Disposing an acquired lease returns the concurrency permits it holds (once); a
/// store that returns them asynchronously does so in the background, and its own safety expiry covers a failure.
/// </summary>
internal sealed class SluiceLease : RateLimitLease
{
    private static readonly string[] s_acquiredNames = [SluiceMetadataNames.Statuses.Name];
    private static readonly string[] s_deniedNames = [SluiceMetadataNames.Statuses.Name, MetadataName.ReasonPhrase.Name, SluiceMetadataNames.Layer.Name];
    private static readonly string[] s_deniedWithWaitNames = [.. s_deniedNames, MetadataName.RetryAfter.Name];

    private readonly RateLimitStore? _store;
    private readonly LayerKey[] _layers;
    private readonly RateLimitDecision _decision;
    private readonly RateStatus[] _statuses;
    private readonly string? _reason;
    private readonly TimeSpan? _retryAfter;
    private readonly Action? _released;
    private int _disposed;

    private SluiceLease(bool acquired, RateLimitStore? store, LayerKey[] layers, RateLimitDecision decision, RateStatus[] statuses, string? reason, TimeSpan? retryAfter, Action? released)
    {
        IsAcquired = acquired;
        _store = store;
        _layers = layers;
        _decision = decision;
        _statuses = statuses;
        _reason = reason;
        _retryAfter = retryAfter;
        _released = released;
    }

    /// <inheritdoc />
    public override bool IsAcquired { get; }

    /// <summary>Whether disposing this lease returns concurrency permits.</summary>
    public bool HoldsPermits => IsAcquired && _decision.LeaseId != 0;

    /// <inheritdoc />
    public override IEnumerable<string> MetadataNames
        => _store is null ? (_retryAfter is null ? [MetadataName.ReasonPhrase.Name] : [MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name])
            : IsAcquired ? s_acquiredNames
            : _retryAfter is null ? s_deniedNames : s_deniedWithWaitNames;

    /// <summary>The lease of a decision the store made.</summary>
    /// <param name="store">The store, for returning permits.</param>
    /// <param name="layers">The layers decided, for returning permits.</param>
    /// <param name="decision">The decision.</param>
    /// <param name="statuses">Its statuses, owned by the lease.</param>
    /// <param name="permitCount">The permits asked for: 0 asks only whether every rate has one left.</param>
    /// <param name="released">Called once when permits are returned.</param>
    public static SluiceLease Decided(RateLimitStore store, LayerKey[] layers, RateLimitDecision decision, RateStatus[] statuses, int permitCount, Action? released)
    {
        if (!decision.IsAllowed)
        {
            var denying = decision.DeniedStatusIndex >= 0 ? statuses[decision.DeniedStatusIndex] : (RateStatus?)null;
            var layer = denying is { } status ? layers[status.LayerIndex].Layer.Name : null;
            var reason = denying is not { } by ? "Rate limited."
                : by.CostExceedsLimit ? string.Create(CultureInfo.InvariantCulture, $"Rate limited by layer '{layer}' ({by.Rate}): the request asks for more than the limit and can never pass.")
                : string.Create(CultureInfo.InvariantCulture, $"Rate limited by layer '{layer}' ({by.Rate}).");
            TimeSpan? wait = decision.HasRetryAfter ? decision.RetryAfter : null;
            return new SluiceLease(false, store, layers, decision, statuses, reason, wait, null) { DeniedLayer = layer };
        }

        if (permitCount == 0)
        {
            // The standard meaning of 0 permits: acquired when none of the limits is exhausted.
            foreach (var status in statuses)
            {
                if (status.Remaining <= 0 && !layers[status.LayerIndex].Layer.IsShadow)
                {
                    var layer = layers[status.LayerIndex].Layer.Name;
                    var reason = string.Create(CultureInfo.InvariantCulture, $"Rate limited by layer '{layer}' ({status.Rate}): no permits left.");
                    return new SluiceLease(false, store, layers, decision, statuses, reason, null, null) { DeniedLayer = layer };
                }
            }
        }

        return new SluiceLease(true, store, layers, decision, statuses, null, null, decision.LeaseId != 0 ? released : null);
    }

    /// <summary>A lease refused without a decision, with the reason and, when known, when to try again.</summary>
    public static SluiceLease Refused(string reason, TimeSpan? retryAfter) => new(false, null, [], default, [], reason, retryAfter, null);

    /// <inheritdoc />
    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = metadataName switch
        {
            _ when metadataName == MetadataName.RetryAfter.Name => _retryAfter,
            _ when metadataName == MetadataName.ReasonPhrase.Name => _reason,
            _ when metadataName == SluiceMetadataNames.Layer.Name => DeniedLayer,
            _ when metadataName == SluiceMetadataNames.Statuses.Name && _store is not null => _statuses,
            _ => null,
        };
        return metadata is not null;
    }

    private string? DeniedLayer { get; init; }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!HoldsPermits || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _released?.Invoke();
        var release = _store!.ReleaseAsync(_layers, _decision.LeaseId);
        if (release.IsCompletedSuccessfully)
        {
            return;
        }

        // A lease is disposed synchronously, but a distributed store returns permits over the network: let it finish
        // in the background instead of blocking the caller's thread; its failure is observed, not thrown.
        _ = release.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }
}
