using System.Runtime.CompilerServices;

namespace Sluice.Algorithms;

/// <summary>
/// Clock-aligned fixed windows. One slot: the window number (low 32 bits of now / period) in the high half and the
/// count in the low half. Window numbers are compared by wrapping difference, so a clock that steps back does not
/// reset a window, a number repeats only after 2^31 windows, and a count stored under another period starts again
/// (see <see cref="Current"/>).
/// </summary>
internal sealed class FixedWindowAlgorithm : WindowAlgorithm
{
    public static readonly FixedWindowAlgorithm Instance = new();

    public override int SlotsPerRate => 1;

    public override RateCheck Check(scoped RateSlots state, Rate rate, long now, long cost) => CheckSlot(state[0], rate, now, cost);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RateCheck CheckSlot(long slot, Rate rate, long now, long cost)
    {
        var period = rate.PeriodMicros;
        var window = now / period;
        var (count, keep) = Current(slot, window);
        var windowEnd = (window + 1) * period;
        if (cost > rate.Limit)
        {
            return new RateCheck(false, Math.Max(0, rate.Limit - count), windowEnd, Microseconds.Never);
        }

        if (count + cost > rate.Limit)
        {
            // An override may have lowered the limit below what this window already counted: nothing is left.
            return new RateCheck(false, Math.Max(0, rate.Limit - count), windowEnd, windowEnd - now);
        }

        return new RateCheck(true, rate.Limit - count - cost, windowEnd, 0, ((long)keep << 32) | (count + cost), windowEnd);
    }

    public override long Apply(scoped RateSlots state, Rate rate, long now, long cost)
    {
        var check = Check(state, rate, now, cost);
        state[0] = check.NewState;
        return check.ExpiresAtMicros;
    }

    /// <summary>The count in force under <paramref name="from"/> moves into the current window of <paramref name="to"/>, and ends with it.</summary>
    public override long Convert(scoped RateSlots state, Rate from, Rate to, long now)
    {
        var (count, _) = Current(state[0], now / from.PeriodMicros);
        if (count == 0)
        {
            state[0] = 0;
            return now;
        }

        var window = now / to.PeriodMicros;
        state[0] = ((long)(uint)window << 32) | count;
        return (window + 1) * to.PeriodMicros;
    }

    /// <summary>The count in force and the window number to store with it.</summary>
    /// <remarks>
    /// The wrapping difference between the current and the stored window numbers: positive, the stored window has
    /// passed and the count starts again. Zero, or −1 (a clock stepped back across a boundary), the stored window goes on.
    /// Further behind, the stored number comes from another period (a reload made the rate's period longer, so the same
    /// instant has a smaller window number; an override rewrites the state in its own period first, see
    /// <see cref="Convert"/>, but a Redis instance may decide with rates older than an override for up to its refresh
    /// interval) or from a long clock step, and the count starts again too: when that window ends is unknown, and
    /// counting on in it would never end while the key is in use.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (long Count, uint Keep) Current(long slot, long window)
    {
        var storedWindow = (uint)(slot >>> 32);
        var behind = (int)((uint)window - storedWindow);

        // behind is 0 or −1 exactly when behind + 1, as unsigned, is at most 1: one comparison on the hot path.
        var count = (uint)(behind + 1) <= 1u ? slot & 0xFFFF_FFFF : 0;
        return (count, count > 0 ? storedWindow : (uint)window);
    }
}
