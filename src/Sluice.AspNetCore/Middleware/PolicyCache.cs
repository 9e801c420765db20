using System.Globalization;
using System.Text;

namespace Sluice.AspNetCore.Middleware;

/// <summary>
/// One thread's last <c>RateLimit-Policy</c> field and what it was built from (each item's layer and rate): the field
/// changes only when a request meets other layers or rates (another endpoint, an override), so most requests reuse it.
/// </summary>
internal sealed class PolicyCache
{
    private const int MaxItems = 16;

    private readonly RateLimitLayer?[] _layers = new RateLimitLayer?[MaxItems];
    private readonly Rate[] _rates = new Rate[MaxItems];
    private readonly string?[] _names = new string?[MaxItems];
    private readonly string?[] _limitPrefixes = new string?[MaxItems];
    private int _count = -1;
    private string _field = string.Empty;

    /// <summary>
    /// The item name of status <paramref name="s"/> as the inside of a structured-field string (RFC 8941: <c>"</c> and
    /// <c>\</c> escaped; configuration refuses other characters outside printable ASCII): the layer's name, with the
    /// period when it has several rates.
    /// </summary>
    public static string ItemName(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses, int s)
    {
        var status = statuses[s];
        var layer = layers[status.LayerIndex].Layer;
        var single = (s + 1 >= statuses.Length || statuses[s + 1].LayerIndex != status.LayerIndex)
            && (s == 0 || statuses[s - 1].LayerIndex != status.LayerIndex);
        var name = layer.Name.AsSpan().IndexOfAny('"', '\\') < 0 ? layer.Name : layer.Name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        return single ? name : name + "/" + RateSyntax.FormatPeriod(status.Rate.Period);
    }

    /// <summary>Whether a layer's name can be written as a structured-field string: printable ASCII only (RFC 8941).</summary>
    public static bool IsFieldSafe(string name) => !name.AsSpan().ContainsAnyExceptInRange(' ', '~');

    /// <summary>The policy field for these statuses, rebuilt only when the layers or rates differ from the last call.</summary>
    public string For(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses)
    {
        if (statuses.Length == _count && Matches(layers, statuses))
        {
            return _field;
        }

        var policy = new StringBuilder();
        for (var s = 0; s < statuses.Length; s++)
        {
            var status = statuses[s];
            var windowSeconds = (long)Math.Ceiling(status.Rate.Period.TotalSeconds);
            policy.Append(s > 0 ? ", \"" : "\"").Append(ItemName(layers, statuses, s)).Append("\";q=")
                .Append(status.Limit.ToString(CultureInfo.InvariantCulture)).Append(";w=").Append(windowSeconds.ToString(CultureInfo.InvariantCulture));
        }

        _field = policy.ToString();
        if (statuses.Length <= MaxItems)
        {
            for (var s = 0; s < statuses.Length; s++)
            {
                _layers[s] = layers[statuses[s].LayerIndex].Layer;
                _rates[s] = statuses[s].Rate;
                _names[s] = ItemName(layers, statuses, s);
                _limitPrefixes[s] = LimitPrefix(_names[s]!, s);
            }

            _count = statuses.Length;
        }
        else
        {
            _count = -1;
        }

        return _field;
    }

    /// <summary>The item name of status <paramref name="s"/>, from the cache when <see cref="For"/> just matched or built it.</summary>
    public string NameAt(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses, int s)
        => statuses.Length == _count && _names[s] is { } name ? name : ItemName(layers, statuses, s);

    /// <summary>
    /// What precedes status <paramref name="s"/>'s remaining count in the <c>RateLimit</c> field (<c>, "name";r=</c>),
    /// from the cache when <see cref="For"/> just matched or built it.
    /// </summary>
    public string LimitPrefixAt(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses, int s)
        => statuses.Length == _count && _limitPrefixes[s] is { } prefix ? prefix : LimitPrefix(ItemName(layers, statuses, s), s);

    private static string LimitPrefix(string name, int s) => (s > 0 ? ", \"" : "\"") + name + "\";r=";

    private bool Matches(ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses)
    {
        for (var s = 0; s < statuses.Length; s++)
        {
            if (!ReferenceEquals(_layers[s], layers[statuses[s].LayerIndex].Layer) || _rates[s] != statuses[s].Rate)
            {
                return false;
            }
        }

        return true;
    }
}
