namespace Sluice;

// Plain comments, not XML documentation: this file is compiled into several assemblies (see LenientBinder.cs).

// What a timer can wait: TimeProvider.CreateTimer and Task.Delay take at most uint.MaxValue - 1 milliseconds (about
// 49.7 days). Options that become a timer's due time are checked against it when they are validated, so that a longer
// value is a configuration error at startup instead of an exception on the first request that waits.
internal static class TimerLimits
{
    public static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
}
