using System.Globalization;

namespace Sluice.Client;

/// <summary>
/// At most <see cref="Limit"/> requests in any <see cref="Period"/>: written <c>2/s</c>, <c>15/min</c>, <c>100/h</c>,
/// <c>300/day</c>, <c>3/15min</c>. The client's own type, so the client depends on nothing server-side.
/// </summary>
public readonly record struct ClientRate(long Limit, TimeSpan Period)
{
    /// <summary>
    /// The longest period a rate may have: 100 years (36,525 days), the longest wait a header is read as
    /// (<see cref="RateLimitHeaderParser.LongestWait"/>) and the longest period of a server-side rate.
    /// </summary>
    public static readonly TimeSpan MaxPeriod = RateLimitHeaderParser.LongestWait;

    /// <summary>Parses <c>N/period</c> (units ms, s, sec, second, m, min, minute, h, hour, d, day, with an optional multiplier).</summary>
    /// <exception cref="FormatException">The text is not a rate; the message quotes it.</exception>
    public static ClientRate Parse(string text)
        => TryParse(text, out var rate) ? rate : throw new FormatException($"'{text}' is not a rate such as \"2/s\" or \"15/min\".");

    /// <summary>Parses a comma-separated list such as <c>2/s, 15/min, 100/h, 300/day</c>.</summary>
    public static IReadOnlyList<ClientRate> ParseList(string text)
        => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToList();

    /// <summary>Parses without throwing.</summary>
    public static bool TryParse(string? text, out ClientRate rate)
    {
        rate = default;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (text is null || slash <= 0 || !long.TryParse(text.AsSpan(0, slash).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit < 1)
        {
            return false;
        }

        var unit = text[(slash + 1)..].Trim();
        var digits = 0;
        while (digits < unit.Length && char.IsAsciiDigit(unit[digits]))
        {
            digits++;
        }

        var multiplier = 1L;
        if (digits > 0 && (!long.TryParse(unit.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out multiplier) || multiplier < 1))
        {
            return false;
        }

        TimeSpan? one = unit[digits..].ToLowerInvariant() switch
        {
            "ms" => TimeSpan.FromMilliseconds(1),
            "s" or "sec" or "second" or "seconds" => TimeSpan.FromSeconds(1),
            "m" or "min" or "minute" or "minutes" => TimeSpan.FromMinutes(1),
            "h" or "hour" or "hours" => TimeSpan.FromHours(1),
            "d" or "day" or "days" => TimeSpan.FromDays(1),
            _ => null,
        };
        if (one is null || multiplier > MaxPeriod.Ticks / one.Value.Ticks)
        {
            return false;
        }

        rate = new ClientRate(limit, one.Value * multiplier);
        return true;
    }

    /// <summary>The rate as <c>N/period</c>, in the largest whole unit.</summary>
    public override string ToString()
    {
        foreach (var (unit, length) in (ReadOnlySpan<(string, TimeSpan)>)[("day", TimeSpan.FromDays(1)), ("h", TimeSpan.FromHours(1)), ("min", TimeSpan.FromMinutes(1)), ("s", TimeSpan.FromSeconds(1))])
        {
            if (Period.Ticks % length.Ticks == 0)
            {
                var count = Period.Ticks / length.Ticks;
                return string.Create(CultureInfo.InvariantCulture, $"{Limit}/{(count == 1 ? string.Empty : count.ToString(CultureInfo.InvariantCulture))}{unit}");
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{Limit}/{Period.TotalMilliseconds}ms");
    }
}
