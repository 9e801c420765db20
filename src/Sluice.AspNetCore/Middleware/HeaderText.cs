using System.Globalization;

namespace Sluice.AspNetCore.Middleware;

/// <summary>Header values for numbers without allocating in the common case: small numbers come from a table, and the last Unix second is reused.</summary>
internal static class HeaderText
{
    private static readonly string[] s_small = [.. Enumerable.Range(0, 1025).Select(i => i.ToString(CultureInfo.InvariantCulture))];
    private static Cached s_lastSeconds = new(-1, "-1");

    [ThreadStatic]
    private static long t_lastLargeValue;

    [ThreadStatic]
    private static string? t_lastLargeText;

    /// <summary>Small numbers from a table; a large one (a limit of 1000/min) reuses this thread's last string when it repeats.</summary>
    public static string Of(long value)
    {
        if ((ulong)value < (ulong)s_small.Length)
        {
            return s_small[value];
        }

        if (t_lastLargeText is { } text && t_lastLargeValue == value)
        {
            return text;
        }

        t_lastLargeValue = value;
        return t_lastLargeText = value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Unix seconds; consecutive requests in the same window share one string.</summary>
    public static string UnixSeconds(long seconds)
    {
        var last = Volatile.Read(ref s_lastSeconds);
        if (last.Value == seconds)
        {
            return last.Text;
        }

        var fresh = new Cached(seconds, seconds.ToString(CultureInfo.InvariantCulture));
        Volatile.Write(ref s_lastSeconds, fresh);
        return fresh.Text;
    }

    private sealed record Cached(long Value, string Text);
}
