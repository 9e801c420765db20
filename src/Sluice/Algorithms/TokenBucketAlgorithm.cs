using System.Runtime.CompilerServices;

namespace Sluice.Algorithms;

/// <summary>
/// GCRA: one slot, the theoretical arrival time (TAT). A full bucket holds <see cref="Rate.Limit"/> tokens and
/// one token returns every emission interval = period / limit, rounded up to a microsecond (so the rate is never
/// exceeded). A request of cost c fits when max(TAT, now) + c × interval − now ≤ limit × interval.
/// </summary>
internal sealed class TokenBucketAlgorithm : WindowAlgorithm
{
    public static readonly TokenBucketAlgorithm Instance = new();

    public override int SlotsPerRate => 1;

    public static long EmissionInterval(Rate rate) => (rate.PeriodMicros + rate.Limit - 1) / rate.Limit;

    public override RateCheck Check(scoped RateSlots state, Rate rate, long now, long cost) => CheckSlot(state[0], rate, now, cost);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RateCheck CheckSlot(long slot, Rate rate, long now, long cost)
    {
        var interval = EmissionInterval(rate);
        var capacity = rate.Limit * interval;
        var tat = Math.Max(slot, now);
        // An override may have shortened the interval while the bucket owes more than it now holds: nothing is left.
        var before = Math.Max(0, (capacity - (tat - now)) / interval);
        if (cost > rate.Limit)
        {
            return new RateCheck(false, before, tat, Microseconds.Never);
        }

        var newTat = tat + (cost * interval);
        return newTat - now <= capacity
            ? new RateCheck(true, (capacity - (newTat - now)) / interval, newTat, 0, newTat, newTat)
            : new RateCheck(false, before, tat, newTat - capacity - now);
    }

    public override long Apply(scoped RateSlots state, Rate rate, long now, long cost)
    {
        state[0] = Math.Max(state[0], now) + (cost * EmissionInterval(rate));
        return state[0];
    }
}
