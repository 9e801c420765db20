using System.Threading.RateLimiting;

namespace Sluice.RateLimiting;

/// <summary>
/// A <see cref="PartitionedRateLimiter{TResource}"/> over layers of a Sluice store: each resource is decided against
/// every layer whose key selector finds a key for it, all or nothing. As ASP.NET Core's
/// <c>RateLimiterOptions.GlobalLimiter</c> it brings layered, multi-window limits, and with a Redis store limits shared
/// by every instance, to an application that keeps the built-in middleware.
/// </summary>
/// <remarks>
/// The same semantics as <see cref="SluiceRateLimiter"/> (permits, metadata, <c>AttemptAcquire</c> on network stores),
/// with the layers chosen per resource: a layer whose selector returns <see langword="null"/> does not apply, and a
/// resource to which no layer applies is always acquired. A key over 256 characters reaches the store as its SHA-256,
/// as in the ASP.NET Core integration, so what a client sends cannot make its state large. The limiter keeps nothing
/// per partition: the store holds the usage, so memory does not grow with the resources seen.
/// </remarks>
/// <typeparam name="TResource">What the limiter is asked about.</typeparam>
public sealed class SluicePartitionedRateLimiter<TResource> : PartitionedRateLimiter<TResource>
{
    private readonly LeaseDecider _decider;
    private readonly SluiceResourceLayer<TResource>[] _layers;

    /// <summary>Creates a limiter that decides each resource against <paramref name="layers"/> in <paramref name="store"/>.</summary>
    /// <param name="store">The store that keeps the usage.</param>
    /// <param name="layers">The layers with their key selectors, decided in this order; at least one.</param>
    /// <param name="options">The options; the defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">No layers, a null layer or selector, more layers than the store decides at once, or invalid options.</exception>
    public SluicePartitionedRateLimiter(RateLimitStore store, IEnumerable<SluiceResourceLayer<TResource>> layers, SluiceRateLimiterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(layers);
        _layers = [.. layers];
        _decider = new LeaseDecider(store, options, _layers.Length, i => _layers[i]?.Layer is null ? "layer" : _layers[i].KeySelector is null ? "key selector" : null);
    }

    /// <inheritdoc />
    /// <remarks>See <see cref="SluiceRateLimiter.GetStatistics"/>: <see langword="null"/> on a store that decides over the network.</remarks>
    public override RateLimiterStatistics? GetStatistics(TResource resource)
    {
        ThrowIfDisposed();
        return _decider.Statistics(Select(resource));
    }

    /// <inheritdoc />
    protected override RateLimitLease AttemptAcquireCore(TResource resource, int permitCount)
    {
        ThrowIfDisposed();
        return _decider.Attempt(Select(resource), permitCount);
    }

    /// <inheritdoc />
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(TResource resource, int permitCount, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _decider.AcquireAsync(Select(resource), permitCount, cancellationToken);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing) => _decider.Dispose();

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _decider.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The layers that apply to <paramref name="resource"/>, each with its key.</summary>
    private LayerKey[] Select(TResource resource)
    {
        var count = 0;
        var keys = new string?[_layers.Length];
        for (var i = 0; i < _layers.Length; i++)
        {
            keys[i] = _layers[i].KeySelector(resource);
            count += keys[i] is null ? 0 : 1;
        }

        var selected = new LayerKey[count];
        var n = 0;
        for (var i = 0; i < _layers.Length; i++)
        {
            if (keys[i] is { } key)
            {
                selected[n++] = _layers[i].Layer.For(StoredKey.Of(key));
            }
        }

        return selected;
    }

    private void ThrowIfDisposed() => _decider.ThrowIfDisposed(this);
}
