namespace Sluice.Testing;

/// <summary>A clock that moves only when a test moves it. Thread-safe.</summary>
public sealed class ManualTimeProvider : TimeProvider
{
    /// <summary>Midnight UTC on a Monday, the first of a month: every window length divides it.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private long _utcTicks;

    public ManualTimeProvider()
        : this(DefaultStart)
    {
    }

    public ManualTimeProvider(DateTimeOffset start) => _utcTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _utcTicks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);

    public void SetUtcNow(DateTimeOffset now) => Interlocked.Exchange(ref _utcTicks, now.UtcTicks);
}
