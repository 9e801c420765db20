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

    internal long RetryAfterMicros => _retryAfterMicros;
}
