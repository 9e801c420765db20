namespace Sluice;

/// <summary>The state of one rate of one layer, as a decision left it.</summary>
/// <remarks>
/// <see cref="Remaining"/> and <see cref="ResetAt"/> include this request's charge when it was allowed, and exclude it
/// when it was denied (a denied request charges nothing).
/// </remarks>
public readonly struct RateStatus
{
    private readonly long _resetAtMicros;
    private readonly long _retryAfterMicros;

    internal RateStatus(int layerIndex, int rateIndex, Rate rate, long remaining, long resetAtMicros, long retryAfterMicros, RateOutcome outcome, bool isOverride)
    {
        LayerIndex = layerIndex;
        RateIndex = rateIndex;
        Rate = rate;
        Remaining = remaining;
        _resetAtMicros = resetAtMicros;
        _retryAfterMicros = retryAfterMicros;
        Outcome = outcome;
        IsOverride = isOverride;
    }

    /// <summary>
    /// A rate that had room for the request, as a store outside this library reports it (the built-in stores fill their
    /// statuses themselves). <paramref name="resetAt"/> rounds up to a whole microsecond.
    /// </summary>
    /// <param name="layerIndex">The layer's index in the request, from 0.</param>
    /// <param name="rateIndex">The rate's index within the rates in force for the key, from 0.</param>
    /// <param name="rate">The rate in force (the layer's, or the key's override).</param>
    /// <param name="remaining">Units left after this request's charge; not negative.</param>
    /// <param name="resetAt">When the window resets (see <see cref="ResetAt"/>).</param>
    /// <param name="isOverride">Whether the rate came from a per-key override.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index or <paramref name="remaining"/> is negative.</exception>
    public static RateStatus Allowed(int layerIndex, int rateIndex, Rate rate, long remaining, DateTimeOffset resetAt, bool isOverride = false)
    {
        Validate(layerIndex, rateIndex, remaining);
        return new RateStatus(layerIndex, rateIndex, rate, remaining, Microseconds.FromDateTimeOffsetCeiling(resetAt), 0, RateOutcome.Allowed, isOverride);
    }

    /// <summary>
    /// A rate that had no room for the request, as a store outside this library reports it. Times round up to a whole
    /// microsecond, so that a client is never told to come back too early.
    /// </summary>
    /// <param name="layerIndex">The layer's index in the request, from 0.</param>
    /// <param name="rateIndex">The rate's index within the rates in force for the key, from 0.</param>
    /// <param name="rate">The rate in force (the layer's, or the key's override).</param>
    /// <param name="remaining">Units left (this request charged nothing); not negative.</param>
    /// <param name="resetAt">When the window resets (see <see cref="ResetAt"/>).</param>
    /// <param name="retryAfter">
    /// How long until the same request would pass this rate if nothing else arrived; <see langword="null"/> when that
    /// cannot be known (a concurrency permit frees when another request ends); <see cref="Timeout.InfiniteTimeSpan"/>
    /// when it never comes (the cost is above the limit).
    /// </param>
    /// <param name="shadow">Whether the layer is in shadow mode: the rate reports the denial without denying.</param>
    /// <param name="isOverride">Whether the rate came from a per-key override.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index, <paramref name="remaining"/> or <paramref name="retryAfter"/> is negative.</exception>
    public static RateStatus Denied(int layerIndex, int rateIndex, Rate rate, long remaining, DateTimeOffset resetAt, TimeSpan? retryAfter, bool shadow = false, bool isOverride = false)
    {
        Validate(layerIndex, rateIndex, remaining);
        long wait;
        if (retryAfter is not { } span)
        {
            wait = Microseconds.Unknown;
        }
        else if (span == Timeout.InfiniteTimeSpan)
        {
            wait = Microseconds.Never;
        }
        else
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(span, TimeSpan.Zero, nameof(retryAfter));
            wait = Microseconds.FromTimeSpanCeiling(span);
        }

        return new RateStatus(layerIndex, rateIndex, rate, remaining, Microseconds.FromDateTimeOffsetCeiling(resetAt), wait, shadow ? RateOutcome.ShadowDenied : RateOutcome.Denied, isOverride);
    }

    /// <summary>The index of the layer in the request.</summary>
    public int LayerIndex { get; }

    /// <summary>The index of the rate within the rates in force for this key.</summary>
    public int RateIndex { get; }

    /// <summary>The rate in force (the layer's, or the key's override).</summary>
    public Rate Rate { get; }

    /// <summary>The rate's limit.</summary>
    public long Limit => Rate.Limit;

    /// <summary>Units left in the current window (tokens in the bucket; free permits for concurrency). Never negative.</summary>
    public long Remaining { get; }

    /// <summary>
    /// When the window resets: for a fixed window its end; for a sliding window and a token bucket the time at which
    /// all current usage has drained; for concurrency the current time.
    /// </summary>
    public DateTimeOffset ResetAt => Microseconds.ToDateTimeOffset(_resetAtMicros);

    /// <summary>
    /// For a rate that denied: how long until the same request would pass this rate if nothing else arrived.
    /// <see cref="TimeSpan.Zero"/> when the rate allowed; <see cref="Timeout.InfiniteTimeSpan"/> when it cannot be
    /// known (a concurrency layer) or never comes (the cost exceeds the limit).
    /// </summary>
    public TimeSpan RetryAfter => _retryAfterMicros < 0 ? Timeout.InfiniteTimeSpan : Microseconds.ToTimeSpan(_retryAfterMicros);

    /// <summary>What the rate decided.</summary>
    public RateOutcome Outcome { get; }

    /// <summary>Whether the rate came from a per-key override.</summary>
    public bool IsOverride { get; }

    /// <summary>Whether the request's cost is above this rate's limit, so that it can never pass.</summary>
    public bool CostExceedsLimit => _retryAfterMicros == Microseconds.Never;

    internal long ResetAtMicros => _resetAtMicros;

    private static void Validate(int layerIndex, int rateIndex, long remaining)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layerIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(rateIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(remaining);
    }

    internal long RetryAfterMicros => _retryAfterMicros;
}
