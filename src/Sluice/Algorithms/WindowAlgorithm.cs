namespace Sluice.Algorithms;

/// <summary>
/// The arithmetic of one algorithm over the state of one rate of one key: a few <see cref="long"/> slots, all zero
/// for a key never seen. Stores own the slots and the locking; every store shares this arithmetic.
/// </summary>
internal abstract class WindowAlgorithm
{
    private static readonly Dictionary<int, SlidingWindowAlgorithm> s_sliding = [];

    /// <summary>How many <see cref="long"/> slots one rate uses.</summary>
    public abstract int SlotsPerRate { get; }

    /// <summary>Decides whether <paramref name="cost"/> fits, without changing the state.</summary>
    public abstract RateCheck Check(scoped RateSlots state, Rate rate, long now, long cost);

    /// <summary>Charges <paramref name="cost"/> (already checked) and returns when the state becomes empty again.</summary>
    public abstract long Apply(scoped RateSlots state, Rate rate, long now, long cost);

    /// <summary>Returns one permit (concurrency only) and returns when the state becomes empty again.</summary>
    public virtual long Release(scoped RateSlots state, Rate rate, long now) => now;

    /// <summary>
    /// Rewrites a state counted under <paramref name="from"/> in the terms of <paramref name="to"/>, another period,
    /// keeping the usage in force now (an override that changes a rate's period keeps the key's usage); returns when the
    /// state is empty again, or <see cref="long.MinValue"/> when the algorithm's state needs no rewriting (its usage is
    /// time owed, not a count in a window).
    /// </summary>
    public virtual long Convert(scoped RateSlots state, Rate from, Rate to, long now) => long.MinValue;

    public static WindowAlgorithm For(RateLimitAlgorithm algorithm, int segments) => algorithm switch
    {
        RateLimitAlgorithm.FixedWindow => FixedWindowAlgorithm.Instance,
        RateLimitAlgorithm.TokenBucket => TokenBucketAlgorithm.Instance,
        RateLimitAlgorithm.Concurrency => ConcurrencyAlgorithm.Instance,
        RateLimitAlgorithm.SlidingWindow => Sliding(segments),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown algorithm."),
    };

    private static SlidingWindowAlgorithm Sliding(int segments)
    {
        lock (s_sliding)
        {
            if (!s_sliding.TryGetValue(segments, out var algorithm))
            {
                algorithm = new SlidingWindowAlgorithm(segments);
                s_sliding.Add(segments, algorithm);
            }

            return algorithm;
        }
    }
}
