namespace Sluice.AspNetCore.Tests;

/// <summary>A store whose every decision fails with the given error (a timeout by default): a backend that is down.</summary>
internal sealed class TestFailingStore(Exception? error = null) : RateLimitStore
{
    public override ValueTask<RateLimitDecision> AcquireAsync(ReadOnlyMemory<LayerKey> layers, Memory<RateStatus> statuses, long cost = 1, CancellationToken cancellationToken = default)
        => ValueTask.FromException<RateLimitDecision>(error ?? new TimeoutException("the store did not answer"));

    public override ValueTask ReleaseAsync(ReadOnlyMemory<LayerKey> layers, long leaseId, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public override ValueTask SetOverrideAsync(RateLimitLayer layer, string key, IReadOnlyList<Rate> rates, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public override ValueTask<bool> RemoveOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default) => ValueTask.FromResult(false);

    public override ValueTask<IReadOnlyList<Rate>?> GetOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default) => ValueTask.FromResult<IReadOnlyList<Rate>?>(null);
}
