using System.Runtime.CompilerServices;

namespace Sluice.Algorithms;

/// <summary>
/// Clock-aligned fixed windows. One slot: the window number (low 32 bits of now / period) in the high half and the
/// count in the low half. Window numbers are compared by wrapping difference, so a clock that steps back does not
/// reset a window, and a number repeats only after 2^31 windows.
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
        var count = CurrentCount(slot, window);
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

        var keep = count > 0 ? (uint)(slot >>> 32) : (uint)window;
        return new RateCheck(true, rate.Limit - count - cost, windowEnd, 0, ((long)keep << 32) | (count + cost), windowEnd);
    }

    public override long Apply(scoped RateSlots state, Rate rate, long now, long cost)
    {
        var check = Check(state, rate, now, cost);
        state[0] = check.NewState;
        return check.ExpiresAtMicros;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long CurrentCount(long slot, long window)
    {
        var storedWindow = (uint)(slot >>> 32);
        var count = slot & 0xFFFF_FFFF;
        // Wrapping difference: positive means the stored window has passed; zero or negative (a clock stepped back)
        // keeps counting in the stored window rather than forgetting usage.
        return (int)((uint)window - storedWindow) > 0 ? 0 : count;
    }
}
