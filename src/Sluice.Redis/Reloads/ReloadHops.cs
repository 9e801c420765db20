namespace Sluice.Redis.Reloads;

/// <summary>
/// The configuration reloads that can still matter to one layer's keys in Redis, oldest first: when this instance first
/// decided with each newer layer object (<see cref="At"/>, in the decisions' time) and, per rate of the newest object,
/// the period in force before each (<see cref="From"/>; 0 where no rate had been at that position yet). Immutable.
/// </summary>
/// <remarks>
/// The decision script reads a fixed or sliding state that is not in the newest period's terms through these hops, as
/// the in-memory store would have rewritten it at each reload: the usage in force under the old period at the moment of
/// the reload moves into the new period's window of that moment, and counts while that window is the current one.
/// </remarks>
internal sealed class ReloadHops
{
    public ReloadHops(long[] at, long[][] from, long[] horizons)
    {
        At = at;
        From = from;
        Horizons = horizons;
    }

    /// <summary>The moments of the reloads, in microseconds since the Unix epoch, oldest first.</summary>
    public long[] At { get; }

    /// <summary>
    /// Per rate the keys are in the terms of (the newest layer object's, then any a reload dropped, which the script is
    /// not sent), per hop: the period before that reload in microseconds (a dropped rate's last period while it is
    /// absent), or 0 when no rate had been at that position yet.
    /// </summary>
    public long[][] From { get; }

    /// <summary>Per hop: when the windows that hold usage carried at that moment have all ended.</summary>
    public long[] Horizons { get; }

    /// <summary>When the newest reload's windows have all ended: from then on no hop can carry anything.</summary>
    public long Horizon => Horizons[^1];

    public int Count => At.Length;
}
