namespace Sluice;

/// <summary>Options of the <see cref="MemoryRateLimitStore"/>.</summary>
public sealed class MemoryRateLimitStoreOptions
{
    /// <summary>The clock. The default is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Whether <see cref="TimeProvider.System"/> is read as a coarse monotonic clock (<see cref="Environment.TickCount64"/>,
    /// about 6 ns a read instead of 27 ns, steps of a few milliseconds, re-anchored to UTC every second). Retry-after
    /// values then include two steps of slack, so that waiting exactly that long still succeeds. Other time providers
    /// are always read exactly. The default is <see langword="true"/>.
    /// </summary>
    public bool CoarseSystemClock { get; set; } = true;

    /// <summary>
    /// Lock stripes per layer, a power of two from 1 to 4096. More stripes mean less contention and shorter pauses when
    /// a stripe grows. The default is 64.
    /// </summary>
    public int ShardsPerLayer { get; set; } = 64;

    /// <summary>
    /// How often, at most, a stripe that is in use scans for keys whose windows have all passed, and reclaims them. There is
    /// no timer: the scan runs inside a decision that touches the stripe. A stripe also reclaims before it grows. The default is 10 seconds.
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Tests only: skip the specialised paths for one layer and for a few one-rate layers, so that the contract suite
    /// proves the general path has the same semantics.
    /// </summary>
    internal bool GeneralPathOnly { get; set; }

    internal void Validate()
    {
        var problems = new List<string>();
        if (TimeProvider is null)
        {
            problems.Add("TimeProvider is null");
        }

        if (ShardsPerLayer < 1 || ShardsPerLayer > 4096 || (ShardsPerLayer & (ShardsPerLayer - 1)) != 0)
        {
            problems.Add($"ShardsPerLayer is {ShardsPerLayer}; it must be a power of two from 1 to 4096");
        }

        if (SweepInterval <= TimeSpan.Zero)
        {
            problems.Add($"SweepInterval is {SweepInterval}; it must be positive");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"MemoryRateLimitStoreOptions are invalid: {string.Join("; ", problems)}.");
        }
    }
}
