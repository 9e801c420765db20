namespace Sluice;

/// <summary>
/// The time of one store in microseconds since the Unix epoch, read once per decision.
/// </summary>
/// <remarks>
/// A custom <see cref="TimeProvider"/> (a test's fake clock) is read exactly. <see cref="TimeProvider.System"/> costs
/// about 27 ns a read here, so the system clock is read as <see cref="Environment.TickCount64"/> (about 6 ns, steps of
/// a few milliseconds) anchored to UTC and re-anchored every second. Such a clock can lag by one step, so
/// <see cref="SlackMicros"/> (two steps) is added to every retry-after: a client that waits exactly that long still succeeds.
/// </remarks>
internal sealed class StoreClock
{
    private static readonly Lazy<long> s_tickStepMicros = new(MeasureTickStep);

    private readonly TimeProvider _time;
    private readonly bool _coarse;
    private Anchor _anchor;

    public StoreClock(TimeProvider time, bool allowCoarse)
    {
        _time = time;
        _coarse = allowCoarse && ReferenceEquals(time, TimeProvider.System);
        _anchor = new Anchor(Environment.TickCount64, Microseconds.Now(time));
        SlackMicros = _coarse ? 2 * s_tickStepMicros.Value : 0;
    }

    /// <summary>Added to retry-after values, covering the clock's step; 0 for an exact clock.</summary>
    public long SlackMicros { get; }

    public long Now()
    {
        if (!_coarse)
        {
            return Microseconds.Now(_time);
        }

        var anchor = Volatile.Read(ref _anchor);
        var elapsed = Environment.TickCount64 - anchor.Tick;
        return elapsed < 1000 ? anchor.Micros + (elapsed * 1000) : Reanchor();
    }

    private long Reanchor()
    {
        var anchor = new Anchor(Environment.TickCount64, Microseconds.Now(_time));
        Volatile.Write(ref _anchor, anchor);
        return anchor.Micros;
    }

    private static long MeasureTickStep()
    {
        // The largest step seen across a few changes of TickCount64 (typically 1 to 16 ms), at most 20 ms of spinning.
        var step = 1L;
        var previous = Environment.TickCount64;
        var deadline = previous + 20;
        var changes = 0;
        while (changes < 3)
        {
            var now = Environment.TickCount64;
            if (now != previous)
            {
                step = Math.Max(step, now - previous);
                previous = now;
                changes++;
            }

            if (now >= deadline)
            {
                break;
            }
        }

        return Math.Max(step, 4) * 1000;
    }

    private sealed record Anchor(long Tick, long Micros);
}
