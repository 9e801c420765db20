using System.Runtime.CompilerServices;

namespace Sluice.Algorithms;

/// <summary>One slot: the number of permits in flight. A request takes one permit whatever its cost (0 peeks).</summary>
internal sealed class ConcurrencyAlgorithm : WindowAlgorithm
{
    public static readonly ConcurrencyAlgorithm Instance = new();

    public override int SlotsPerRate => 1;

    public static long Permits(long cost) => cost > 0 ? 1 : 0;

    public override RateCheck Check(scoped RateSlots state, Rate rate, long now, long cost) => CheckSlot(state[0], rate, now, cost);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RateCheck CheckSlot(long slot, Rate rate, long now, long cost)
    {
        var inFlight = slot;
        var permits = Permits(cost);
        return inFlight + permits <= rate.Limit
            ? new RateCheck(true, rate.Limit - inFlight - permits, now, 0, inFlight + permits, inFlight + permits > 0 ? long.MaxValue : now)
            : new RateCheck(false, Math.Max(0, rate.Limit - inFlight), now, Microseconds.Unknown);
    }

    public override long Apply(scoped RateSlots state, Rate rate, long now, long cost)
    {
        state[0] += Permits(cost);
        return state[0] > 0 ? long.MaxValue : now;
    }

    public override long Release(scoped RateSlots state, Rate rate, long now)
    {
        state[0] = Math.Max(0, state[0] - 1);
        return state[0] > 0 ? long.MaxValue : now;
    }
}
