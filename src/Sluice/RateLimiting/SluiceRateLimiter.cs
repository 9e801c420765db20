using System.Threading.RateLimiting;

namespace Sluice.RateLimiting;

/// <summary>
/// A <see cref="RateLimiter"/> over fixed layers and keys of a Sluice store: everything that takes the standard
/// abstraction (a resilience pipeline, a <c>RateLimitPartition</c> of ASP.NET Core's rate limiter, your own code) gets
/// Sluice's decisions: every rate of every layer at once, all or nothing, shared by every process on a Redis store.
/// </summary>
/// <remarks>
/// <para>
/// A permit is one unit of cost: <c>AcquireAsync(5)</c> charges 5 to every rate, or nothing when any rate lacks room.
/// A permit count of 0 asks whether every rate still has a unit left, without charging. A count above a limit is
/// refused, never thrown: an override can raise the limit later.
/// </para>
/// <para>
/// A denied lease carries <see cref="MetadataName.RetryAfter"/> (when the same request would pass if nothing else
/// arrived; never earlier), <see cref="MetadataName.ReasonPhrase"/> and <see cref="SluiceMetadataNames.Layer"/>; every
/// decided lease carries <see cref="SluiceMetadataNames.Statuses"/>. Disposing an acquired lease returns the permits
/// of concurrency layers; time-based rates are spent.
/// </para>
/// <para>
/// <see cref="RateLimiter.AttemptAcquire"/> decides at once on a <see cref="MemoryRateLimitStore"/>; on a store that
/// decides over the network (Redis) it returns a refused lease without deciding, rather than block a thread, so call
/// <see cref="RateLimiter.AcquireAsync"/> there. A store that fails closed and cannot decide yields a refused lease with
/// the store's retry-after. The limiter holds no usage of its own: any number of limiters over the same layers and
/// keys, in any number of processes sharing the store, count together. A key over 256 characters reaches the store
/// as its SHA-256, as in the ASP.NET Core integration.
/// </para>
/// </remarks>
public sealed class SluiceRateLimiter : RateLimiter
{
    private readonly LeaseDecider _decider;
    private readonly LayerKey[] _layers;

    /// <summary>Creates a limiter that decides <paramref name="layers"/> (each with its key) in <paramref name="store"/>.</summary>
    /// <param name="store">The store that keeps the usage.</param>
    /// <param name="layers">The layers and keys every acquisition is decided against, in this order; at least one.</param>
    /// <param name="options">The options; the defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">No layers, a layer or key is null, more layers than the store decides at once, or invalid options.</exception>
    public SluiceRateLimiter(RateLimitStore store, IEnumerable<LayerKey> layers, SluiceRateLimiterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(layers);
        _layers = [.. layers.Select(l => l.Key is null ? l : l with { Key = StoredKey.Of(l.Key) })];
        _decider = new LeaseDecider(store, options, _layers.Length, i => _layers[i].Layer is null ? "layer" : _layers[i].Key is null ? "key" : null);
    }

    /// <summary>
    /// The time since this limiter last decided, or <see langword="null"/> while one of its leases holds concurrency
    /// permits: the usage lives in the store, so an idle limiter can be dropped and made again at no loss (ASP.NET Core's
    /// partitioned limiter drops partitions idle for 10 seconds).
    /// </summary>
    public override TimeSpan? IdleDuration => _decider.IdleDuration;

    /// <inheritdoc />
    /// <remarks>See <see cref="LeaseDecider.Statistics"/>: <see langword="null"/> on a store that decides over the network.</remarks>
    public override RateLimiterStatistics? GetStatistics()
    {
        ThrowIfDisposed();
        return _decider.Statistics(_layers);
    }

    /// <inheritdoc />
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ThrowIfDisposed();
        return _decider.Attempt(_layers, permitCount);
    }

    /// <inheritdoc />
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _decider.AcquireAsync(_layers, permitCount, cancellationToken);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing) => _decider.Dispose();

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _decider.Dispose();
        return ValueTask.CompletedTask;
    }

    private void ThrowIfDisposed() => _decider.ThrowIfDisposed(this);
}
