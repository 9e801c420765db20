namespace Sluice.RateLimiting;

/// <summary>Options of <see cref="SluiceRateLimiter"/> and <see cref="SluicePartitionedRateLimiter{TResource}"/>.</summary>
public sealed class SluiceRateLimiterOptions
{
    /// <summary>The longest a wait may be: a day. A longer wait is almost always a unit mistake.</summary>
    public static readonly TimeSpan MaxWaitLimit = TimeSpan.FromDays(1);

    /// <summary>
    /// How long <c>AcquireAsync</c> may wait, in total, for a denied request to pass. It sleeps for the decision's
    /// retry-after and decides again, as long as the waits add up to at most this; other callers may take the room
    /// first, so a wait is no reservation. A request that can never pass (its cost is above a limit), one whose wait is
    /// unknown, a permit count of 0 and <c>AttemptAcquire</c> are answered at once. The default is
    /// <see cref="TimeSpan.Zero"/>: answer at once, like a built-in limiter with a queue limit of 0. At most
    /// <see cref="MaxWaitLimit"/>.
    /// </summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The clock the waits and <see cref="SluiceRateLimiter.IdleDuration"/> use; the store keeps its own clock for its
    /// decisions, so give both the same provider in tests. The default is <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Adds every problem of these options to <paramref name="problems"/>.</summary>
    internal void Validate(List<string> problems)
    {
        if (MaxWait < TimeSpan.Zero || MaxWait > MaxWaitLimit)
        {
            problems.Add($"MaxWait is {MaxWait}; it must be from 0 to {MaxWaitLimit}");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider is null");
        }
    }
}
