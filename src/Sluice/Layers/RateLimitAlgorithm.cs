namespace Sluice;

/// <summary>How a layer counts. Every algorithm enforces each of the layer's rates at once.</summary>
public enum RateLimitAlgorithm
{
    /// <summary>
    /// Windows aligned to the clock (a minute rate resets at every whole minute, UTC); the reset time is the end of
    /// the current window. Allows up to twice the limit across a window edge. State: 8 bytes per rate.
    /// </summary>
    FixedWindow,

    /// <summary>
    /// A sliding window counted in <see cref="RateLimitLayer.SlidingWindowSegments"/> segments. Never admits more than
    /// the limit in any interval of one period (no burst at a window edge); compared with an exact sliding log it may
    /// deny for at most one segment (period / segments) longer. State: 8 + 4 × (segments + 1) bytes per rate, rounded up to 8.
    /// </summary>
    SlidingWindow,

    /// <summary>
    /// A token bucket evaluated as GCRA: one timestamp per rate. A full bucket holds <see cref="Rate.Limit"/> tokens and
    /// refills one token every period / limit (rounded up to a whole microsecond). State: 8 bytes per rate.
    /// </summary>
    TokenBucket,

    /// <summary>
    /// At most <see cref="Rate.Limit"/> requests in flight per key; the permit is returned when the lease is disposed.
    /// The rate's period is the lease's safety lifetime in distributed stores. Every request takes one permit, whatever its cost.
    /// </summary>
    Concurrency,
}
