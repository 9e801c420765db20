using System.Threading.RateLimiting;

namespace Sluice.RateLimiting;

/// <summary>
/// What <see cref="SluiceRateLimiter"/> and <see cref="SluicePartitionedRateLimiter{TResource}"/> share: turning store
/// decisions into leases, waiting within <see cref="SluiceRateLimiterOptions.MaxWait"/>, and the counts behind the
/// statistics.
/// </summary>
internal sealed class LeaseDecider
{
    /// <summary>The smallest per-thread status buffer: three layers of up to eight rates each.</summary>
    private const int ScratchStatuses = 24;

    [ThreadStatic]
    private static RateStatus[]? t_statuses;

    private readonly RateLimitStore _store;
    private readonly MemoryRateLimitStore? _synchronous;
    private readonly TimeSpan _maxWait;
    private readonly TimeProvider _time;
    private readonly Action _released;
    private long _successful;
    private long _failed;
    private long _permitsHeld;
    private long _lastUsedMicros;
    private int _disposed;

    /// <summary>Checks a limiter's layers and options together and throws one exception that lists every problem.</summary>
    /// <param name="store">The store.</param>
    /// <param name="options">The options; the defaults when <see langword="null"/>.</param>
    /// <param name="layerCount">How many layers the limiter names.</param>
    /// <param name="layerProblem">The problem of the layer at an index, or <see langword="null"/>.</param>
    public LeaseDecider(RateLimitStore store, SluiceRateLimiterOptions? options, int layerCount, Func<int, string?> layerProblem)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new SluiceRateLimiterOptions();
        var problems = new List<string>();
        if (layerCount == 0)
        {
            problems.Add("no layers are given");
        }

        if (layerCount > store.MaxLayersPerDecision)
        {
            problems.Add($"{layerCount} layers are given; the store decides at most {store.MaxLayersPerDecision} at once");
        }

        for (var i = 0; i < layerCount; i++)
        {
            if (layerProblem(i) is { } problem)
            {
                problems.Add($"layer {i} has no {problem}");
            }
        }

        options.Validate(problems);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The limiter is invalid: {string.Join("; ", problems)}.", "layers");
        }

        _store = store;
        _synchronous = store as MemoryRateLimitStore;
        _maxWait = options.MaxWait;
        _time = options.TimeProvider;
        _released = () => Interlocked.Decrement(ref _permitsHeld);
        _lastUsedMicros = Microseconds.Now(_time);
    }

    /// <summary>Marks the limiter disposed: every later call throws.</summary>
    public void Dispose() => Interlocked.Exchange(ref _disposed, 1);

    public void ThrowIfDisposed(object limiter) => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, limiter);

    /// <summary>
    /// Time since the last decision, or <see langword="null"/> while a lease holds concurrency permits. The decision's
    /// time is the store's own reading of its clock, so that deciding reads no clock of its own.
    /// </summary>
    public TimeSpan? IdleDuration => Interlocked.Read(ref _permitsHeld) > 0
        ? null
        : Microseconds.ToTimeSpan(Math.Max(0, Microseconds.Now(_time) - Interlocked.Read(ref _lastUsedMicros)));

    /// <summary>Whether <see cref="AcquireAsync"/> can answer synchronously: a store that decides in memory, and no waiting.</summary>
    public bool AnswersAtOnce => _synchronous is not null && _maxWait == TimeSpan.Zero;

    /// <summary>
    /// Decides without waiting. A store that decides in memory answers; any other would have to block a thread on the
    /// network, so the lease is refused undecided and the caller is pointed at <c>AcquireAsync</c>, which ASP.NET
    /// Core's rate-limiting middleware calls next. <paramref name="layers"/> may be a scratch buffer: a lease that
    /// keeps them copies them.
    /// </summary>
    public RateLimitLease Attempt(ReadOnlySpan<LayerKey> layers, int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        if (_synchronous is null)
        {
            return SluiceLease.Undecided;
        }

        // One status buffer per thread, taken out of its field while in use so that a nested call makes its own.
        var statuses = t_statuses is { } cached && cached.Length >= RateLimitStore.GetStatusCapacity(layers.Length) ? cached : null;
        t_statuses = null;
        statuses ??= new RateStatus[Math.Max(RateLimitStore.GetStatusCapacity(layers.Length), ScratchStatuses)];
        try
        {
            var decision = _synchronous.Acquire(layers, statuses, permitCount);
            return Finish(layers, decision, statuses, permitCount);
        }
        finally
        {
            t_statuses = statuses;
        }
    }

    public ValueTask<RateLimitLease> AcquireAsync(ReadOnlyMemory<LayerKey> layers, int permitCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<RateLimitLease>(cancellationToken);
        }

        return AnswersAtOnce ? new ValueTask<RateLimitLease>(Attempt(layers.Span, permitCount)) : AcquireWaitingAsync(layers, permitCount, cancellationToken);
    }

    /// <summary>
    /// Counts of this limiter's leases and, for a store that decides in memory, the permits left: the fewest any rate of
    /// the layers has (read without charging; <see cref="long.MaxValue"/> when no layer applies). <see langword="null"/>
    /// for other stores, which would need the network.
    /// </summary>
    public RateLimiterStatistics? Statistics(ReadOnlySpan<LayerKey> layers)
    {
        if (_synchronous is null)
        {
            return null;
        }

        var statuses = new RateStatus[RateLimitStore.GetStatusCapacity(layers.Length)];
        var decision = _synchronous.Acquire(layers, statuses, 0);
        var fewest = Fewest(layers, statuses.AsSpan(0, decision.StatusCount));
        return new RateLimiterStatistics
        {
            CurrentAvailablePermits = fewest < 0 ? long.MaxValue : statuses[fewest].Remaining,
            CurrentQueuedCount = 0,
            TotalSuccessfulLeases = Interlocked.Read(ref _successful),
            TotalFailedLeases = Interlocked.Read(ref _failed),
        };
    }

    private async ValueTask<RateLimitLease> AcquireWaitingAsync(ReadOnlyMemory<LayerKey> layers, int permitCount, CancellationToken cancellationToken)
    {
        var waited = TimeSpan.Zero;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var statuses = new RateStatus[RateLimitStore.GetStatusCapacity(layers.Length)];
            RateLimitDecision decision;
            try
            {
                decision = await _store.AcquireAsync(layers, statuses, permitCount, cancellationToken).ConfigureAwait(false);
            }
            catch (RateLimitStoreUnavailableException e)
            {
                // A store configured to fail closed: refused, with when the store tries its backend again.
                Interlocked.Increment(ref _failed);
                return SluiceLease.Refused("The rate-limit store is unavailable: " + e.Message, e.RetryAfter);
            }

            var lease = Finish(layers.Span, decision, statuses, permitCount);
            if (lease.IsAcquired || permitCount == 0 || !decision.HasRetryAfter || decision.CostExceedsLimit
                || decision.RetryAfter > _maxWait - waited)
            {
                return lease;
            }

            await Task.Delay(decision.RetryAfter, _time, cancellationToken).ConfigureAwait(false);
            waited += decision.RetryAfter;
        }
    }

    private SluiceLease Finish(ReadOnlySpan<LayerKey> layers, RateLimitDecision decision, RateStatus[] statuses, int permitCount)
    {
        // A plain store: IdleDuration needs a recent time, not the latest one.
        _lastUsedMicros = decision.DecidedAtMicros != 0 ? decision.DecidedAtMicros : Microseconds.Now(_time);
        var decided = statuses.AsSpan(0, decision.StatusCount);
        if (!decision.IsAllowed)
        {
            Interlocked.Increment(ref _failed);
            var denying = decision.DeniedStatusIndex;
            return SluiceLease.Denied(
                decided.ToArray(),
                denying,
                denying >= 0 ? layers[decided[denying].LayerIndex].Layer.Name : null,
                decision.HasRetryAfter ? decision.RetryAfter : null);
        }

        // The standard meaning of 0 permits: acquired when none of the limits is exhausted.
        if (permitCount == 0 && Fewest(layers, decided) is var fewest and >= 0 && decided[fewest].Remaining <= 0)
        {
            Interlocked.Increment(ref _failed);
            return SluiceLease.Denied(decided.ToArray(), fewest, layers[decided[fewest].LayerIndex].Layer.Name, null);
        }

        Interlocked.Increment(ref _successful);
        if (decision.LeaseId == 0)
        {
            return SluiceLease.Acquired;
        }

        Interlocked.Increment(ref _permitsHeld);
        return SluiceLease.Holding(_store, layers.ToArray(), decision.LeaseId, _released);
    }

    /// <summary>The index of the non-shadow rate with the fewest units left (the first such), or −1 when none applies.</summary>
    private static int Fewest(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses)
    {
        var fewest = -1;
        for (var i = 0; i < statuses.Length; i++)
        {
            if (!layers[statuses[i].LayerIndex].Layer.IsShadow && (fewest < 0 || statuses[i].Remaining < statuses[fewest].Remaining))
            {
                fewest = i;
            }
        }

        return fewest;
    }
}
