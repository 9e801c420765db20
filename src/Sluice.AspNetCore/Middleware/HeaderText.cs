using System.Globalization;

namespace Sluice.AspNetCore.Middleware;

/// <summary>Header values for numbers without allocating in the common case: small numbers come from a table, and the last Unix second is reused.</summary>
internal static class HeaderText
{
    private static readonly string[] s_small = [.. Enumerable.Range(0, 1025).Select(i => i.ToString(CultureInfo.InvariantCulture))];
    private static Cached s_lastSeconds = new(-1, "-1");

    [ThreadStatic]
    private static long t_lastLimitValue;

    [ThreadStatic]
    private static string? t_lastLimitText;

    /// <summary>Small numbers from a table, larger ones formatted.</summary>
    public static string Of(long value) => (ulong)value < (ulong)s_small.Length ? s_small[value] : value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A limit: it rarely changes, so a large one (1000/min) reuses this thread's last string.</summary>
    public static string Limit(long value)
    {
        if ((ulong)value < (ulong)s_small.Length)
        {
            return s_small[value];
        }

        if (t_lastLimitText is { } text && t_lastLimitValue == value)
        {
            return text;
        }

        t_lastLimitValue = value;
        return t_lastLimitText = value.ToString(CultureInfo.InvariantCulture);
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
