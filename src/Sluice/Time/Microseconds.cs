namespace Sluice;

/// <summary>Every store counts time in whole microseconds since the Unix epoch, a resolution Lua's doubles keep exactly.</summary>
internal static class Microseconds
{
    /// <summary>A retry-after that never comes: the cost exceeds the limit.</summary>
    public const long Never = -1;

    /// <summary>A retry-after that cannot be known: a concurrency permit frees when another request ends.</summary>
    public const long Unknown = -2;

    private const long UnixEpochTicks = 621355968000000000;

    public static long Now(TimeProvider time) => FromDateTimeOffset(time.GetUtcNow());

    public static DateTimeOffset ToDateTimeOffset(long micros) => new(UnixEpochTicks + (micros * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);

    public static TimeSpan ToTimeSpan(long micros) => TimeSpan.FromTicks(micros * TimeSpan.TicksPerMicrosecond);

    /// <summary>Whole seconds, rounded up (towards positive infinity): a reset or a wait is never announced early.</summary>
    public static long CeilingSeconds(long micros) => micros > 0 ? ((micros - 1) / 1_000_000) + 1 : micros / 1_000_000;

    /// <summary>Rounds up to the next whole microsecond.</summary>
    public static long FromDateTimeOffsetCeiling(DateTimeOffset time) => FromTimeSpanCeiling(TimeSpan.FromTicks(time.UtcTicks - UnixEpochTicks));

    /// <summary>Rounds down to a whole microsecond.</summary>
    public static long FromDateTimeOffset(DateTimeOffset time) => (time.UtcTicks - UnixEpochTicks) / TimeSpan.TicksPerMicrosecond;

    /// <summary>Rounds up: a store must never promise a client an earlier time than it will honour.</summary>
    public static long FromTimeSpanCeiling(TimeSpan span) => (span.Ticks + TimeSpan.TicksPerMicrosecond - 1) / TimeSpan.TicksPerMicrosecond;
}
