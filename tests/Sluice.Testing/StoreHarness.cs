namespace Sluice.Testing;

/// <summary>A store under test, with the clock it reads.</summary>
public sealed record StoreHarness(RateLimitStore Store, ManualTimeProvider Clock) : IAsyncDisposable
{
    /// <summary>Runs when the test ends (a distributed store flushes its keys here).</summary>
    public Func<ValueTask>? OnDispose { get; init; }

    public ValueTask<RateLimitResult> Acquire(params LayerKey[] layers) => Store.AcquireAsync(layers);

    public ValueTask<RateLimitResult> Acquire(long cost, params LayerKey[] layers) => Store.AcquireAsync(cost, layers);

    public async ValueTask DisposeAsync()
    {
        if (OnDispose is not null)
        {
            await OnDispose();
        }
    }
}
