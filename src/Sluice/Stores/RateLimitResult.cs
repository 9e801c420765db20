namespace Sluice;

/// <summary>
/// A decision with its statuses, as returned by the allocating convenience methods. Disposing it returns the
/// concurrency permits it holds (once; later calls do nothing).
/// </summary>
public sealed class RateLimitResult : IAsyncDisposable, IDisposable
{
    private readonly RateLimitStore _store;
    private readonly LayerKey[] _layers;
    private int _released;

    internal RateLimitResult(RateLimitStore store, LayerKey[] layers, RateLimitDecision decision, RateStatus[] statuses)
    {
        _store = store;
        _layers = layers;
        Decision = decision;
        Statuses = statuses;
    }

    /// <summary>The decision.</summary>
    public RateLimitDecision Decision { get; }

    /// <summary>Whether the request may proceed.</summary>
    public bool IsAllowed => Decision.IsAllowed;

    /// <summary>See <see cref="RateLimitDecision.RetryAfter"/>.</summary>
    public TimeSpan RetryAfter => Decision.RetryAfter;

    /// <summary>One status per rate of every layer, in request order.</summary>
    public IReadOnlyList<RateStatus> Statuses { get; }

    /// <summary>The status of the rate that decided the retry-after, or <see langword="null"/> when allowed.</summary>
    public RateStatus? DeniedBy => Decision.DeniedStatusIndex >= 0 ? Statuses[Decision.DeniedStatusIndex] : null;

    /// <summary>The layer that decided the retry-after, or <see langword="null"/> when allowed.</summary>
    public RateLimitLayer? DeniedLayer => DeniedBy is { } status ? _layers[status.LayerIndex].Layer : null;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Decision.LeaseId != 0 && Interlocked.Exchange(ref _released, 1) == 0)
        {
            await _store.ReleaseAsync(_layers, Decision.LeaseId).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
