using System.Globalization;

namespace Sluice;

/// <summary>The <c>N/period</c> grammar, read without regular expressions or the current culture.</summary>
internal static class RateSyntax
{
    private static readonly (string Unit, TimeSpan Length)[] s_units =
    [
        ("us", TimeSpan.FromMicroseconds(1)), ("µs", TimeSpan.FromMicroseconds(1)),
        ("ms", TimeSpan.FromMilliseconds(1)), ("millisecond", TimeSpan.FromMilliseconds(1)), ("milliseconds", TimeSpan.FromMilliseconds(1)),
        ("s", TimeSpan.FromSeconds(1)), ("sec", TimeSpan.FromSeconds(1)), ("secs", TimeSpan.FromSeconds(1)),
        ("second", TimeSpan.FromSeconds(1)), ("seconds", TimeSpan.FromSeconds(1)),
        ("m", TimeSpan.FromMinutes(1)), ("min", TimeSpan.FromMinutes(1)), ("mins", TimeSpan.FromMinutes(1)),
        ("minute", TimeSpan.FromMinutes(1)), ("minutes", TimeSpan.FromMinutes(1)),
        ("h", TimeSpan.FromHours(1)), ("hr", TimeSpan.FromHours(1)), ("hour", TimeSpan.FromHours(1)), ("hours", TimeSpan.FromHours(1)),
        ("d", TimeSpan.FromDays(1)), ("day", TimeSpan.FromDays(1)), ("days", TimeSpan.FromDays(1)),
        ("w", TimeSpan.FromDays(7)), ("week", TimeSpan.FromDays(7)), ("weeks", TimeSpan.FromDays(7)),
    ];

    public static bool TryParse(string text, out Rate rate, out string? error)
    {
        rate = default;
        var span = text.AsSpan().Trim();
        var slash = span.IndexOf('/');
        if (slash < 0)
        {
            error = "it has no '/' between the limit and the period";
            return false;
        }

        var limitPart = span[..slash].Trim();
        var periodPart = span[(slash + 1)..].Trim();
        if (!TryReadWholeNumber(limitPart, out var limit) || limit < 1 || limit > Rate.MaxLimit)
        {
            error = $"the limit '{limitPart}' is not a whole number between 1 and {Rate.MaxLimit}";
            return false;
        }

        var digits = 0;
        while (digits < periodPart.Length && char.IsAsciiDigit(periodPart[digits]))
        {
            digits++;
        }

        long multiplier = 1;
        if (digits > 0 && (!TryReadWholeNumber(periodPart[..digits], out multiplier) || multiplier < 1))
        {
            error = $"the period multiplier '{periodPart[..digits]}' is not a positive whole number";
            return false;
        }

        var unitPart = periodPart[digits..].Trim();
        TimeSpan? unit = null;
        foreach (var (name, length) in s_units)
        {
            if (unitPart.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                unit = length;
                break;
            }
        }

        if (unit is null)
        {
            error = unitPart.IsEmpty
                ? "the period has no unit (ms, s, min, h, day, week)"
                : $"the unit '{unitPart}' is unknown (ms, s, min, h, day, week)";
            return false;
        }

        // Past the longest period, multiplying could overflow a TimeSpan: stop at one more than it, which the rule refuses.
        var period = TimeSpan.FromTicks(unit.Value.Ticks * Math.Min(multiplier, (Rate.MaxPeriod.Ticks / unit.Value.Ticks) + 1));
        if (Rate.PeriodProblem(period) is { } problem)
        {
            error = problem;
            return false;
        }

        rate = new Rate(limit, period);
        error = null;
        return true;
    }

    public static string FormatPeriod(TimeSpan period)
    {
        (long Ticks, string Unit)[] units =
        [
            (TimeSpan.TicksPerDay * 7, "week"), (TimeSpan.TicksPerDay, "day"), (TimeSpan.TicksPerHour, "h"),
            (TimeSpan.TicksPerMinute, "min"), (TimeSpan.TicksPerSecond, "s"), (TimeSpan.TicksPerMillisecond, "ms"),
        ];
        foreach (var (ticks, unit) in units)
        {
            if (period.Ticks % ticks == 0)
            {
                var count = period.Ticks / ticks;
                return count == 1 ? unit : count.ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return (period.Ticks / TimeSpan.TicksPerMicrosecond).ToString(CultureInfo.InvariantCulture) + "us";
    }

    private static bool TryReadWholeNumber(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 18)
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }
}
