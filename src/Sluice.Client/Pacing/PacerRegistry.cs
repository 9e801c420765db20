using System.Collections.Concurrent;

namespace Sluice.Client;

/// <summary>
/// The process's pacing state: one <see cref="ScopePacer"/> per scope, shared by every handler, HttpClient and caller
/// that uses the same registry (<see cref="Shared"/> unless one is given, so learned limits and pauses after a 429 reach
/// every caller in the process).
/// </summary>
/// <remarks>
/// A scope idle for <see cref="IdleTimeout"/> (1 hour by default) is dropped, so a long-running process that talks to
/// ever new domains keeps memory for the scopes in use only. Idle means: nothing reserved for that long, no pause still
/// in force, and no send recent enough for any of its rates to still count it; so dropping a scope never lets a send
/// through early. What it had learned from headers is learned again from the next answer. The handler looks for idle
/// scopes at most every quarter of <see cref="IdleTimeout"/>, on the request that finds one due; no timer runs.
/// </remarks>
public sealed class PacerRegistry
{
    private readonly ConcurrentDictionary<string, ScopePacer> _pacers = new(StringComparer.Ordinal);
    private readonly Lock _sweeping = new();
    private readonly long _idleTicks;
    private long _nextSweepTicks;

    /// <summary>A registry that drops scopes idle for an hour.</summary>
    public PacerRegistry()
        : this(TimeSpan.FromHours(1))
    {
    }

    /// <summary>A registry that drops scopes idle for <paramref name="idleTimeout"/>; <see cref="Timeout.InfiniteTimeSpan"/> keeps every scope.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="idleTimeout"/> is not positive (nor infinite).</exception>
    public PacerRegistry(TimeSpan idleTimeout)
    {
        if (idleTimeout <= TimeSpan.Zero && idleTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(idleTimeout), idleTimeout, "The idle timeout must be positive, or infinite.");
        }

        IdleTimeout = idleTimeout;
        _idleTicks = idleTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : idleTimeout.Ticks;
    }

    /// <summary>The registry every handler uses by default.</summary>
    public static PacerRegistry Shared { get; } = new();

    /// <summary>How long a scope stays without use before it is dropped.</summary>
    public TimeSpan IdleTimeout { get; }

    /// <summary>The scopes held now.</summary>
    public IReadOnlyCollection<string> Scopes => (IReadOnlyCollection<string>)_pacers.Keys;

    /// <summary>The pacer of <paramref name="scope"/>, created with <paramref name="rates"/> on first use. Drops no scope.</summary>
    public ScopePacer GetOrAdd(string scope, IReadOnlyList<ClientRate> rates, Func<TimeSpan, TimeSpan> margin)
        => _pacers.GetOrAdd(scope, static (key, arg) => new ScopePacer(key, arg.rates, arg.margin), (rates, margin));

    /// <summary>
    /// The pacer of <paramref name="scope"/>, created with <paramref name="rates"/> on first use and marked in use at
    /// <paramref name="now"/>; first drops idle scopes when a look for them is due.
    /// </summary>
    public ScopePacer GetOrAdd(string scope, IReadOnlyList<ClientRate> rates, Func<TimeSpan, TimeSpan> margin, DateTimeOffset now)
    {
        var ticks = now.UtcTicks;
        if (_idleTicks != long.MaxValue && ticks >= Volatile.Read(ref _nextSweepTicks))
        {
            DropIdle(ticks);
        }

        while (true)
        {
            // Marked in use under the pacer's lock, where a look for idle scopes also decides and removes: either this
            // keeps the pacer, or it was dropped already and the next lookup makes a new one.
            var pacer = GetOrAdd(scope, rates, margin);
            if (pacer.TryTouch(ticks))
            {
                return pacer;
            }
        }
    }

    /// <summary>The pacer of <paramref name="scope"/> if it exists.</summary>
    public ScopePacer? Find(string scope) => _pacers.GetValueOrDefault(scope);

    private void DropIdle(long now)
    {
        if (!_sweeping.TryEnter())
        {
            return;
        }

        try
        {
            if (now < _nextSweepTicks)
            {
                return;
            }

            Volatile.Write(ref _nextSweepTicks, now + Math.Max(_idleTicks / 4, TimeSpan.TicksPerSecond));
            foreach (var pair in _pacers)
            {
                pair.Value.TryRetire(now, _idleTicks, () => _pacers.TryRemove(pair));
            }
        }
        finally
        {
            _sweeping.Exit();
        }
    }
}
