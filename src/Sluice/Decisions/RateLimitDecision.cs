namespace Sluice;

/// <summary>
/// The answer for one request across all of its layers: allowed only if every rate of every non-shadow layer had
/// room for the cost, in which case every such rate was charged; when denied, nothing was charged.
/// </summary>
/// <remarks>Per-rate details are written to the status buffer passed with the request, <see cref="StatusCount"/> entries long.</remarks>
public readonly struct RateLimitDecision
{
    private readonly long _retryAfterMicros;

    internal RateLimitDecision(bool isAllowed, long retryAfterMicros, int deniedStatusIndex, int statusCount, long leaseId, long decidedAtMicros)
    {
        IsAllowed = isAllowed;
        _retryAfterMicros = retryAfterMicros;
        DeniedStatusIndex = deniedStatusIndex;
        StatusCount = statusCount;
        LeaseId = leaseId;
        DecidedAtMicros = decidedAtMicros;
    }

    /// <summary>
    /// The decision that <paramref name="statuses"/> add up to, as a store outside this library returns it (the built-in
    /// stores make their own): allowed unless a rate is <see cref="RateOutcome.Denied"/> (a shadow denial allows). When
    /// denied, <see cref="RetryAfter"/> is the longest known wait of the denying rates; <see cref="CostExceedsLimit"/>
    /// when the cost is above a denying rate's limit; unknown (<see cref="HasRetryAfter"/> false) when no denying rate
    /// knows its wait. <see cref="DeniedStatusIndex"/> points at the rate that decided it.
    /// </summary>
    /// <param name="statuses">One status per rate in force, layer by layer, as the store wrote them to the caller's buffer.</param>
    /// <param name="decidedAt">The store's clock when it decided (see <see cref="DecidedAt"/>); <see langword="null"/> leaves the caller to read its own.</param>
    /// <param name="leaseId">The concurrency permits an allowed decision holds, for the store's own <see cref="RateLimitStore.ReleaseAsync"/>; 0 for none.</param>
    /// <exception cref="ArgumentException">A denied decision is given permits to hold.</exception>
    public static RateLimitDecision FromStatuses(ReadOnlySpan<RateStatus> statuses, DateTimeOffset? decidedAt = null, long leaseId = 0)
    {
        var decided = decidedAt is { } time ? Math.Max(1, Microseconds.FromDateTimeOffset(time)) : 0;
        var denial = Denial(statuses, decided);
        if (!denial.IsAllowed && leaseId != 0)
        {
            throw new ArgumentException("A denied decision holds no concurrency permits: its lease id must be 0.", nameof(leaseId));
        }

        return denial.IsAllowed ? new RateLimitDecision(true, 0, -1, statuses.Length, leaseId, decided) : denial;
    }

    /// <summary>
    /// The denial that <paramref name="statuses"/> add up to: the longest wait of the denying rates, "never" as soon as
    /// one can never pass. Allowed (without permits) when no rate denied. Every store builds its denials here.
    /// </summary>
    internal static RateLimitDecision Denial(ReadOnlySpan<RateStatus> statuses, long decidedAtMicros)
    {
        long longest = Microseconds.Unknown;
        var index = -1;
        for (var s = 0; s < statuses.Length; s++)
        {
            var wait = statuses[s].RetryAfterMicros;
            if (statuses[s].Outcome != RateOutcome.Denied)
            {
                continue;
            }

            if (wait == Microseconds.Never)
            {
                return new RateLimitDecision(false, Microseconds.Never, s, statuses.Length, 0, decidedAtMicros);
            }

            if (index < 0 || wait > longest)
            {
                longest = wait;
                index = s;
            }
        }

        return index < 0
            ? new RateLimitDecision(true, 0, -1, statuses.Length, 0, decidedAtMicros)
            : new RateLimitDecision(false, longest, index, statuses.Length, 0, decidedAtMicros);
    }

    /// <summary>Whether the request may proceed.</summary>
    public bool IsAllowed { get; }

    /// <summary>
    /// When denied: the earliest time after which the same request would pass every denying rate if nothing else
    /// arrived (never earlier: waiting exactly this long succeeds). <see cref="TimeSpan.Zero"/> when allowed.
    /// <see cref="Timeout.InfiniteTimeSpan"/> when it cannot be known (only a concurrency layer denied) or never comes
    /// (<see cref="CostExceedsLimit"/>).
    /// </summary>
    public TimeSpan RetryAfter => _retryAfterMicros < 0 ? Timeout.InfiniteTimeSpan : Microseconds.ToTimeSpan(_retryAfterMicros);

    /// <summary>Whether the retry-after is a known, finite time.</summary>
    public bool HasRetryAfter => _retryAfterMicros >= 0;

    /// <summary>Whether the cost is above the limit of a denying rate, so that the request can never pass.</summary>
    public bool CostExceedsLimit => _retryAfterMicros == Microseconds.Never;

    /// <summary>
    /// The index, in the status buffer, of the denying rate that decides <see cref="RetryAfter"/> (the one that frees
    /// last); -1 when allowed.
    /// </summary>
    public int DeniedStatusIndex { get; }

    /// <summary>How many entries of the status buffer this decision filled: one per rate of every layer, in request order.</summary>
    public int StatusCount { get; }

    /// <summary>The identity of the concurrency permits this decision holds; 0 when it holds none.</summary>
    public long LeaseId { get; }

    /// <summary>
    /// The store's clock when it decided: the clock every <see cref="RateStatus.ResetAt"/> of this decision is on (the
    /// Redis server's <c>TIME</c> for the Redis store by default, not this machine's). Time left until a reset is
    /// <c>ResetAt - DecidedAt</c>, whatever this machine's clock says. <see langword="null"/> when the store did not
    /// read a clock (the request named no layer).
    /// </summary>
    public DateTimeOffset? DecidedAt => DecidedAtMicros == 0 ? null : Microseconds.ToDateTimeOffset(DecidedAtMicros);

    internal long RetryAfterMicros => _retryAfterMicros;

    /// <summary>Microseconds since the Unix epoch on the store's clock; 0 when unknown.</summary>
    internal long DecidedAtMicros { get; }
}
