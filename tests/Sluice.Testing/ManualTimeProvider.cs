namespace Sluice.Testing;

/// <summary>
/// A clock that moves only when a test moves it. Thread-safe. Timers (and so <c>Task.Delay(d, provider)</c>) fire when
/// <see cref="Advance"/> or <see cref="SetUtcNow"/> moves the clock past their due time, on the thread that moved it.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    /// <summary>Midnight UTC on a Monday, the first of a month: every window length divides it.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly List<ManualTimer> _timers = [];
    private long _utcTicks;

    public ManualTimeProvider()
        : this(DefaultStart)
    {
    }

    public ManualTimeProvider(DateTimeOffset start) => _utcTicks = start.UtcTicks;

    /// <summary>Timers created and not yet disposed or fired for good; lets a test wait until code under test is waiting.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_timers)
            {
                return _timers.Count(t => t.DueTicks is not null);
            }
        }
    }

    /// <summary>How long until the earliest pending timer is due, or null when none is pending.</summary>
    public TimeSpan? UntilNextTimer
    {
        get
        {
            lock (_timers)
            {
                var due = _timers.Min(t => t.DueTicks);
                return due is { } ticks ? TimeSpan.FromTicks(Math.Max(0, ticks - Interlocked.Read(ref _utcTicks))) : null;
            }
        }
    }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _utcTicks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        Interlocked.Add(ref _utcTicks, by.Ticks);
        FireDue();
    }

    public void SetUtcNow(DateTimeOffset now)
    {
        Interlocked.Exchange(ref _utcTicks, now.UtcTicks);
        FireDue();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (_timers)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    private void FireDue()
    {
        while (true)
        {
            ManualTimer? due;
            lock (_timers)
            {
                var now = Interlocked.Read(ref _utcTicks);
                due = _timers.Where(t => t.DueTicks <= now).OrderBy(t => t.DueTicks).FirstOrDefault();
                due?.Reschedule();
            }

            if (due is null)
            {
                return;
            }

            due.Fire();
        }
    }

    private void Remove(ManualTimer timer)
    {
        lock (_timers)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private long _periodTicks;

        public long? DueTicks { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._timers)
            {
                _periodTicks = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
                DueTicks = dueTime == Timeout.InfiniteTimeSpan ? null : owner.GetTimestamp() + Math.Max(0, dueTime.Ticks);
            }

            owner.FireDue();
            return true;
        }

        /// <summary>Called under the owner's lock just before firing: the next due time, or none.</summary>
        public void Reschedule() => DueTicks = _periodTicks > 0 ? DueTicks + _periodTicks : null;

        public void Fire() => callback(state);

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
