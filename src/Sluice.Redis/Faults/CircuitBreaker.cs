namespace Sluice.Redis.Faults;

/// <summary>
/// Stops paying the timeout on every request while Redis is down: after N consecutive failures the circuit opens for
/// the break duration; then one request probes Redis, and a success closes the circuit.
/// </summary>
internal sealed class CircuitBreaker(int failuresToBreak, TimeSpan breakDuration, TimeProvider time)
{
    private int _failures;
    private long _openUntil;
    private int _probing;

    /// <summary>Whether the circuit is open (Redis is being left alone).</summary>
    public bool IsOpen => Volatile.Read(ref _openUntil) != 0;

    /// <summary>How long until the circuit lets a probe through.</summary>
    public TimeSpan RetryAfter
    {
        get
        {
            var openUntil = Volatile.Read(ref _openUntil);
            return openUntil == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(0, openUntil - time.GetUtcNow().UtcTicks));
        }
    }

    /// <summary>Whether this request may ask Redis: the circuit is closed, or it is this request's turn to probe.</summary>
    public bool ShouldTry()
    {
        var openUntil = Volatile.Read(ref _openUntil);
        if (openUntil == 0)
        {
            return true;
        }

        return time.GetUtcNow().UtcTicks >= openUntil && Interlocked.CompareExchange(ref _probing, 1, 0) == 0;
    }

    public void Succeeded()
    {
        Volatile.Write(ref _failures, 0);
        Volatile.Write(ref _openUntil, 0);
        Volatile.Write(ref _probing, 0);
    }

    /// <summary>
    /// Ends an attempt that says nothing about Redis (its caller gave up): no failure is counted, and a probe's turn is
    /// given back so that the next request probes.
    /// </summary>
    public void Abandoned() => Volatile.Write(ref _probing, 0);

    public void Failed()
    {
        if (Interlocked.Increment(ref _failures) >= failuresToBreak)
        {
            Volatile.Write(ref _openUntil, time.GetUtcNow().UtcTicks + breakDuration.Ticks);
        }

        Volatile.Write(ref _probing, 0);
    }
}
