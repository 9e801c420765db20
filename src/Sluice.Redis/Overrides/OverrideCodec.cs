using System.Globalization;
using System.Text;

namespace Sluice.Redis.Overrides;

/// <summary>How overrides are kept in Redis: one hash, field "layer\u001fkey", value "limit/periodMicros,…".</summary>
internal static class OverrideCodec
{
    private const char Separator = '\u001f';

    public static string Field(string layer, string key) => layer + Separator + key;

    public static (string Layer, string Key)? SplitField(string field)
    {
        var at = field.IndexOf(Separator, StringComparison.Ordinal);
        return at < 0 ? null : (field[..at], field[(at + 1)..]);
    }

    public static string Encode(IReadOnlyList<Rate> rates)
    {
        var text = new StringBuilder();
        foreach (var rate in rates)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(rate.Limit.ToString(CultureInfo.InvariantCulture)).Append('/').Append(rate.PeriodMicros.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    public static Rate[]? Decode(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var parts = value.Split(',');
        var rates = new Rate[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var slash = parts[i].IndexOf('/', StringComparison.Ordinal);
            if (slash < 0
                || !long.TryParse(parts[i].AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
                || !long.TryParse(parts[i].AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var micros))
            {
                return null;
            }

            rates[i] = new Rate(limit, TimeSpan.FromMicroseconds(micros));
        }

        return rates;
    }
}
