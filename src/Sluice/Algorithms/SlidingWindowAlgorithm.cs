namespace Sluice.Algorithms;

/// <summary>
/// A sliding window counted in S segments of width w = ⌈period / S⌉. The window at time t counts the S + 1 segments
/// from ⌊t/w⌋ − S to ⌊t/w⌋, which cover at least one whole period before t: the oldest is counted whole even when it
/// lies partly outside. So it never admits more than the limit in any interval of one period, and it denies at most
/// one segment longer than an exact sliding log would.
/// </summary>
/// <remarks>
/// Slots: [0] the newest segment written; then S + 1 32-bit counts packed two per slot, in a ring indexed by segment
/// number modulo S + 1.
/// </remarks>
internal sealed class SlidingWindowAlgorithm : WindowAlgorithm
{
    private readonly int _segments;
    private readonly int _ring;

    public SlidingWindowAlgorithm(int segments)
    {
        _segments = segments;
        _ring = segments + 1;
        SlotsPerRate = 1 + ((_ring + 1) / 2);
    }

    public override int SlotsPerRate { get; }

    /// <summary>The width of one of <paramref name="segments"/> segments of a period: the period divided, rounded up.</summary>
    public static long SegmentWidth(long periodMicros, int segments) => (periodMicros + segments - 1) / segments;

    public long SegmentWidth(Rate rate) => SegmentWidth(rate.PeriodMicros, _segments);

    public override RateCheck Check(scoped RateSlots state, Rate rate, long now, long cost)
    {
        var width = SegmentWidth(rate);
        var newest = state[0];
        if (IsForeign(newest, now / width))
        {
            // Read as the empty window Apply makes of it.
            return CheckEmpty(rate, now, cost, width);
        }

        var current = Math.Max(now / width, newest);

        // No segment before the epoch's was ever written: a period longer than the time since 1970 would reach below 0.
        var oldest = Math.Max(current - _segments, 0);
        long sum = 0;
        for (var segment = Math.Max(oldest, newest - _segments); segment <= newest; segment++)
        {
            sum += Count(state, segment);
        }

        if (cost > rate.Limit)
        {
            return new RateCheck(false, Math.Max(0, rate.Limit - sum), DrainedAt(sum, newest, width, now), Microseconds.Never);
        }

        if (sum + cost <= rate.Limit)
        {
            // A charge lands in the current segment; a read (cost 0) leaves the usage as it is.
            var reset = cost > 0 ? (current + _segments + 1) * width : DrainedAt(sum, newest, width, now);
            return new RateCheck(true, rate.Limit - sum - cost, reset, 0);
        }

        // The earliest time the oldest segments have left the window and enough room is free.
        var needed = sum + cost - rate.Limit;
        long freed = 0;
        var retryAt = (newest + _segments + 1) * width;
        for (var segment = oldest; segment <= newest; segment++)
        {
            freed += Count(state, segment);
            if (freed >= needed)
            {
                retryAt = (segment + _segments + 1) * width;
                break;
            }
        }

        return new RateCheck(false, Math.Max(0, rate.Limit - sum), DrainedAt(sum, newest, width, now), retryAt - now);
    }

    public override long Apply(scoped RateSlots state, Rate rate, long now, long cost)
    {
        var width = SegmentWidth(rate);
        var newest = state[0];
        if (IsForeign(newest, now / width))
        {
            // Counted under another segment width: the window starts again from the current segment.
            for (var segment = Math.Max(newest - _segments, 0); segment <= newest; segment++)
            {
                SetCount(state, segment, 0);
            }

            newest = now / width;
            state[0] = newest;
        }

        var current = Math.Max(now / width, newest);
        if (current > newest)
        {
            var clearFrom = Math.Max(newest + 1, current - _segments);
            for (var segment = clearFrom; segment <= current; segment++)
            {
                SetCount(state, segment, 0);
            }

            state[0] = current;
        }

        SetCount(state, current, Count(state, current) + cost);
        return (current + _segments + 1) * width;
    }

    /// <summary>
    /// The usage in the window under <paramref name="from"/> moves into the current segment of <paramref name="to"/>'s
    /// window, and leaves it one period of <paramref name="to"/> later.
    /// </summary>
    public override long Convert(scoped RateSlots state, Rate from, Rate to, long now)
    {
        var fromWidth = SegmentWidth(from);
        var newest = state[0];
        long sum = 0;
        if (!IsForeign(newest, now / fromWidth))
        {
            var current = Math.Max(now / fromWidth, newest);
            for (var segment = Math.Max(Math.Max(current - _segments, newest - _segments), 0); segment <= newest; segment++)
            {
                sum += Count(state, segment);
            }
        }

        for (var position = 0; position < _ring; position++)
        {
            SetCount(state, position, 0);
        }

        if (sum == 0)
        {
            state[0] = 0;
            return now;
        }

        var width = SegmentWidth(to);
        var nowSegment = now / width;
        state[0] = nowSegment;
        SetCount(state, nowSegment, sum);
        return (nowSegment + _segments + 1) * width;
    }

    private long DrainedAt(long sum, long newest, long width, long now) => sum > 0 ? (newest + _segments + 1) * width : now;

    /// <summary>
    /// Whether the newest segment written lies past the whole window ahead of now: it was numbered under another segment
    /// width (a reload made the period longer, or an instance decided with rates older than an override, which rewrites
    /// the state in its own period first: see <see cref="Convert"/>) or before a long clock step. The window then
    /// starts again: when that usage would leave it is unknown, and counting from that number would put every reset in
    /// the far future.
    /// </summary>
    private bool IsForeign(long newest, long nowSegment) => newest - nowSegment > _segments;

    /// <summary>The check of an empty window.</summary>
    private RateCheck CheckEmpty(Rate rate, long now, long cost, long width)
    {
        if (cost > rate.Limit)
        {
            return new RateCheck(false, rate.Limit, now, Microseconds.Never);
        }

        return new RateCheck(true, rate.Limit - cost, cost > 0 ? ((now / width) + _segments + 1) * width : now, 0);
    }

    private long Count(scoped RateSlots state, long segment)
    {
        var position = (int)(segment % _ring);
        var slot = state[1 + (position >> 1)];
        return (position & 1) == 0 ? slot & 0xFFFF_FFFF : slot >>> 32;
    }

    private void SetCount(scoped RateSlots state, long segment, long count)
    {
        var position = (int)(segment % _ring);
        ref var slot = ref state[1 + (position >> 1)];
        slot = (position & 1) == 0
            ? (slot & unchecked((long)0xFFFF_FFFF_0000_0000)) | count
            : (slot & 0xFFFF_FFFF) | (count << 32);
    }
}
