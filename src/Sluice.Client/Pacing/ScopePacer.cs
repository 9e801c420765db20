namespace Sluice.Client;

/// <summary>
/// Paces one scope (a host, read or write, perhaps one domain): hands out send times so that every rate, configured or
/// learned, holds in every window, and honours a pause set after a 429 for every caller. Callers are served in the
/// order they ask (each reservation is at or after the previous one). Thread-safe.
/// </summary>
/// <remarks>
/// The pacer keeps an exact log of its reserved send times (as many as the largest limit of its rates, and at least the
/// last 128), so it is exact where a server's sliding window is approximate; <see cref="SluiceClientOptions.SafetyMargin"/>
/// pads every period to absorb a server that counts a request slightly longer and network jitter. The log holds at most
/// <see cref="MaxExactLimit"/> send times, whatever a server publishes: a rate of a larger limit <c>L</c> per <c>P</c>
/// is kept as <c>floor(L/k)</c> per <c>P/k</c> (rounded up), with <c>k = ceil(L/MaxExactLimit)</c>, which never allows
/// more than <c>L</c> in any <c>P</c>.
/// </remarks>
public sealed class ScopePacer
{
    /// <summary>The largest limit enforced exactly, and so the most send times one scope keeps (8 bytes each).</summary>
    public const int MaxExactLimit = 10_000;

    private const int RecentSendsKept = 128;

    private readonly object _gate = new();
    private readonly List<long> _sent = [];
    private readonly Dictionary<string, ClientRate> _learned = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<ClientRate> _configured;
    private readonly Func<TimeSpan, TimeSpan> _margin;
    private long _pausedUntil;
    private long _lastUsed;
    private bool _retired;
    private DateTimeOffset? _lastReset;

    internal ScopePacer(string scope, IReadOnlyList<ClientRate> configured, Func<TimeSpan, TimeSpan> margin)
    {
        Scope = scope;
        _configured = configured;
        _margin = margin;
    }

    /// <summary>The scope's adaptive (CUBIC) controller, used when <see cref="SluiceClientOptions.Adaptive"/> is on.</summary>
    public CubicRateController Adaptive { get; } = new();

    /// <summary>The scope's key.</summary>
    public string Scope { get; }

    /// <summary>The rates enforced now: the configured ones and every one learned from the server's headers.</summary>
    public IReadOnlyList<ClientRate> Rates
    {
        get
        {
            lock (_gate)
            {
                return [.. _configured, .. _learned.Values];
            }
        }
    }

    /// <summary>Marks the pacer in use at <paramref name="now"/> (UTC ticks); false when it was dropped from its registry.</summary>
    internal bool TryTouch(long now)
    {
        lock (_gate)
        {
            _lastUsed = Math.Max(_lastUsed, now);
            return !_retired;
        }
    }

    /// <summary>
    /// Under the pacer's lock, so that no caller marks it in use meanwhile: when dropping it at <paramref name="now"/>
    /// changes nothing a later send would see, calls <paramref name="remove"/> and remembers that it is gone.
    /// </summary>
    internal void TryRetire(long now, long idle, Func<bool> remove)
    {
        lock (_gate)
        {
            if (IsIdle(now, idle))
            {
                _retired = remove();
            }
        }
    }

    /// <summary>
    /// Whether dropping this pacer at <paramref name="now"/> changes nothing a later send would see: unused for
    /// <paramref name="idle"/> ticks, no pause in force, and the last send past the longest of its rates' windows.
    /// Under the lock.
    /// </summary>
    private bool IsIdle(long now, long idle)
    {
        if (now - _lastUsed < idle || _pausedUntil > now)
        {
            return false;
        }

        if (_sent.Count == 0)
        {
            return true;
        }

        var longest = 0L;
        foreach (var rate in (IEnumerable<ClientRate>)[.. _configured, .. _learned.Values])
        {
            longest = Math.Max(longest, WindowOf(Enforced(rate)));
        }

        return _sent[^1] + longest <= now;
    }

    /// <summary>The ticks an enforced rate looks back over: its period and the safety margin.</summary>
    private long WindowOf(ClientRate enforced) => (enforced.Period + _margin(enforced.Period)).Ticks;

    /// <summary>The instant until which the scope is paused for every caller; <see cref="DateTimeOffset.MinValue"/> if never paused.</summary>
    public DateTimeOffset PausedUntil => new(Interlocked.Read(ref _pausedUntil), TimeSpan.Zero);

    /// <summary>Reserves the earliest send time allowed at or after <paramref name="now"/> and returns how long to wait for it.</summary>
    public TimeSpan Reserve(DateTimeOffset now)
    {
        TryReserve(now, TimeSpan.MaxValue, out var wait);
        return wait;
    }

    /// <summary>
    /// Reserves the earliest send time allowed at or after <paramref name="now"/> if it is at most
    /// <paramref name="longest"/> away. Returns false and reserves nothing when it is further: a caller that gives up
    /// then holds back no later caller. <paramref name="wait"/> is how long to wait for that send time either way.
    /// </summary>
    public bool TryReserve(DateTimeOffset now, TimeSpan longest, out TimeSpan wait)
    {
        lock (_gate)
        {
            _lastUsed = Math.Max(_lastUsed, now.UtcTicks);
            var at = Math.Max(now.UtcTicks, _pausedUntil);
            if (_sent.Count > 0)
            {
                at = Math.Max(at, _sent[^1]);
            }

            var longestWindow = 0L;
            var largestLimit = 0L;
            foreach (var configuredOrLearned in (IEnumerable<ClientRate>)[.. _configured, .. _learned.Values])
            {
                var rate = Enforced(configuredOrLearned);
                var window = WindowOf(rate);
                longestWindow = Math.Max(longestWindow, window);
                largestLimit = Math.Max(largestLimit, rate.Limit);
                if (_sent.Count >= rate.Limit)
                {
                    at = Math.Max(at, _sent[_sent.Count - (int)rate.Limit] + window);
                }
            }

            wait = TimeSpan.FromTicks(at - now.UtcTicks);
            if (wait > longest)
            {
                return false;
            }

            _sent.Add(at);

            // Keep what the rates need (a rate of limit N looks back N sends, within its window), and always the last few
            // sends, so a rate learned later still sees them.
            var keepAfter = at - longestWindow;
            var drop = 0;
            while (drop < _sent.Count - RecentSendsKept && (_sent[drop] <= keepAfter || _sent.Count - drop > largestLimit))
            {
                drop++;
            }

            _sent.RemoveRange(0, drop);
            return true;
        }
    }

    /// <summary>
    /// Gives back a send time reserved at <paramref name="sendAt"/> (<c>now + wait</c> of its reservation) that will not be
    /// used, because its caller gave up waiting. Reservations made meanwhile keep their times (they only had to wait
    /// longer); later ones no longer count it. Nothing happens when no such send time is kept.
    /// </summary>
    public void Release(DateTimeOffset sendAt)
    {
        lock (_gate)
        {
            var index = _sent.LastIndexOf(sendAt.UtcTicks);
            if (index >= 0)
            {
                _sent.RemoveAt(index);
            }
        }
    }

    /// <summary>The send times kept now (for tests).</summary>
    internal int LoggedSends
    {
        get
        {
            lock (_gate)
            {
                return _sent.Count;
            }
        }
    }

    /// <summary>
    /// The rate as enforced: itself up to <see cref="MaxExactLimit"/>; above, <c>floor(L/k)</c> per <c>P/k</c> rounded
    /// up, so that <c>k</c> such windows cover <c>P</c> and together allow at most <c>L</c>.
    /// </summary>
    internal static ClientRate Enforced(ClientRate rate)
    {
        if (rate.Limit <= MaxExactLimit)
        {
            return rate;
        }

        var parts = (rate.Limit + MaxExactLimit - 1) / MaxExactLimit;
        return new ClientRate(rate.Limit / parts, TimeSpan.FromTicks((rate.Period.Ticks + parts - 1) / parts));
    }

    /// <summary>Pauses the scope for every caller until <paramref name="until"/> (never shortens an existing pause).</summary>
    public void PauseUntil(DateTimeOffset until)
    {
        lock (_gate)
        {
            _pausedUntil = Math.Max(_pausedUntil, until.UtcTicks);
        }
    }

    /// <summary>
    /// Learns a de-facto <c>X-RateLimit</c> window: when the reset moves forward to a new window, the distance between
    /// the two resets is the window's length, and the limit per that length is enforced from then on (rounded to whole
    /// seconds; a window longer than a day is ignored).
    /// </summary>
    public void LearnWindow((long Limit, DateTimeOffset ResetAt)? window)
    {
        if (window is not { } observed)
        {
            return;
        }

        lock (_gate)
        {
            var resetAt = new DateTimeOffset(observed.ResetAt.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
            if (_lastReset is { } previous && resetAt > previous)
            {
                var length = resetAt - previous;
                if (length <= TimeSpan.FromDays(1))
                {
                    _learned["x-ratelimit"] = new ClientRate(observed.Limit, length);
                }
            }

            if (_lastReset is null || resetAt > _lastReset)
            {
                _lastReset = resetAt;
            }
        }
    }

    /// <summary>Adds or replaces rates learned from the server's published policies.</summary>
    public void Learn(IReadOnlyDictionary<string, ClientRate> policies)
    {
        if (policies.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var (name, rate) in policies)
            {
                _learned[name] = rate;
            }
        }
    }
}
