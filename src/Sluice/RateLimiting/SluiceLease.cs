using System.Globalization;
using System.Threading.RateLimiting;

namespace Sluice.RateLimiting;

/// <summary>
/// A lease over one store decision. An acquired lease without concurrency permits is one shared instance, so admitting
/// allocates nothing; a lease that holds permits returns them when disposed (once; a store that returns them
/// asynchronously does so in the background, and its own safety expiry covers a failure). A denied lease keeps the
/// decision's statuses for its metadata.
/// </summary>
internal sealed class SluiceLease : RateLimitLease
{
    /// <summary>The lease of every acquisition that holds no concurrency permits: nothing to return, no metadata.</summary>
    public static readonly SluiceLease Acquired = new(true);

    /// <summary>The refusal of <c>AttemptAcquire</c> on a store that decides over the network: nothing was decided or charged.</summary>
    public static readonly SluiceLease Undecided = Refused("This store decides over the network: call AcquireAsync.", null);

    private readonly RateLimitStore? _store;
    private readonly LayerKey[]? _layers;
    private readonly long _leaseId;
    private readonly Action? _released;
    private readonly RateStatus[]? _statuses;
    private readonly int _denying = -1;
    private readonly string? _layer;
    private readonly string? _reason;
    private readonly TimeSpan? _retryAfter;
    private int _disposed;

    private SluiceLease(bool acquired, RateLimitStore? store = null, LayerKey[]? layers = null, long leaseId = 0, Action? released = null)
    {
        IsAcquired = acquired;
        _store = store;
        _layers = layers;
        _leaseId = leaseId;
        _released = released;
    }

    private SluiceLease(RateStatus[]? statuses, int denying, string? layer, string? reason, TimeSpan? retryAfter)
    {
        _statuses = statuses;
        _denying = denying;
        _layer = layer;
        _reason = reason;
        _retryAfter = retryAfter;
    }

    /// <inheritdoc />
    public override bool IsAcquired { get; }

    /// <summary>Whether disposing this lease returns concurrency permits.</summary>
    public bool HoldsPermits => _leaseId != 0;

    /// <inheritdoc />
    public override IEnumerable<string> MetadataNames
    {
        get
        {
            if (IsAcquired)
            {
                yield break;
            }

            yield return MetadataName.ReasonPhrase.Name;
            if (_retryAfter is not null)
            {
                yield return MetadataName.RetryAfter.Name;
            }

            if (_layer is not null)
            {
                yield return SluiceMetadataNames.Layer.Name;
            }

            if (_statuses is not null)
            {
                yield return SluiceMetadataNames.Statuses.Name;
            }
        }
    }

    /// <summary>An acquired lease that holds concurrency permits in <paramref name="store"/>.</summary>
    public static SluiceLease Holding(RateLimitStore store, LayerKey[] layers, long leaseId, Action released) => new(true, store, layers, leaseId, released);

    /// <summary>A lease the store denied.</summary>
    /// <param name="statuses">The decision's statuses, owned by the lease.</param>
    /// <param name="denying">The index of the status of the rate that decided, or −1.</param>
    /// <param name="layer">Its layer's name.</param>
    /// <param name="retryAfter">When the same request would pass, if known.</param>
    public static SluiceLease Denied(RateStatus[] statuses, int denying, string? layer, TimeSpan? retryAfter) => new(statuses, denying, layer, null, retryAfter);

    /// <summary>A lease refused without a decision, with the reason and, when known, when to try again.</summary>
    public static SluiceLease Refused(string reason, TimeSpan? retryAfter) => new(null, -1, null, reason, retryAfter);

    /// <inheritdoc />
    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = IsAcquired ? null : metadataName switch
        {
            _ when metadataName == MetadataName.RetryAfter.Name => _retryAfter,
            _ when metadataName == MetadataName.ReasonPhrase.Name => _reason ?? Reason(),
            _ when metadataName == SluiceMetadataNames.Layer.Name => _layer,
            _ when metadataName == SluiceMetadataNames.Statuses.Name => _statuses,
            _ => null,
        };
        return metadata is not null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!HoldsPermits || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _released!.Invoke();
        var release = _store!.ReleaseAsync(_layers, _leaseId);
        if (release.IsCompletedSuccessfully)
        {
            return;
        }

        // A lease is disposed synchronously, but a distributed store returns permits over the network: let it finish
        // in the background instead of blocking the caller's thread; its failure is observed, not thrown.
        _ = release.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>The reason phrase of a denial, made when asked for.</summary>
    private string Reason() => (_denying >= 0 ? _statuses![_denying] : (RateStatus?)null) switch
    {
        null => "Rate limited.",
        { CostExceedsLimit: true } by => string.Create(CultureInfo.InvariantCulture, $"Rate limited by layer '{_layer}' ({by.Rate}): the request asks for more than the limit and can never pass."),
        { Outcome: RateOutcome.Allowed } by => string.Create(CultureInfo.InvariantCulture, $"Rate limited by layer '{_layer}' ({by.Rate}): no permits left."),
        { } by => string.Create(CultureInfo.InvariantCulture, $"Rate limited by layer '{_layer}' ({by.Rate})."),
    };
}
