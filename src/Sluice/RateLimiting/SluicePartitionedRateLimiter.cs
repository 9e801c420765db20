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
    [ThreadStatic]
    private static LayerKey[]? t_layers;

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
        var layers = new LayerKey[_layers.Length];
        return _decider.Statistics(layers.AsSpan(0, Select(resource, layers)));
    }

    /// <inheritdoc />
    protected override RateLimitLease AttemptAcquireCore(TResource resource, int permitCount)
    {
        ThrowIfDisposed();
        return AttemptWithScratch(resource, permitCount);
    }

    /// <inheritdoc />
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(TResource resource, int permitCount, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (_decider.AnswersAtOnce && !cancellationToken.IsCancellationRequested)
        {
            return new ValueTask<RateLimitLease>(AttemptWithScratch(resource, permitCount));
        }

        var layers = new LayerKey[_layers.Length];
        return _decider.AcquireAsync(layers.AsMemory(0, Select(resource, layers)), permitCount, cancellationToken);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing) => _decider.Dispose();

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        _decider.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Decides synchronously with this thread's layer buffer, taken out of its field while in use so that a nested call (from a key selector) makes its own.</summary>
    private RateLimitLease AttemptWithScratch(TResource resource, int permitCount)
    {
        var layers = t_layers is { } cached && cached.Length >= _layers.Length ? cached : new LayerKey[_layers.Length];
        t_layers = null;
        try
        {
            return _decider.Attempt(layers.AsSpan(0, Select(resource, layers)), permitCount);
        }
        finally
        {
            Array.Clear(layers);
            t_layers = layers;
        }
    }

    /// <summary>Writes the layers that apply to <paramref name="resource"/>, each with its key, and returns how many.</summary>
    private int Select(TResource resource, LayerKey[] into)
    {
        var count = 0;
        foreach (var (layer, selector) in _layers)
        {
            if (selector(resource) is { } key)
            {
                into[count++] = layer.For(StoredKey.Of(key));
            }
        }

        return count;
    }

    private void ThrowIfDisposed() => _decider.ThrowIfDisposed(this);
}
