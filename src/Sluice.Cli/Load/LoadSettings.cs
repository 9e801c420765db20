namespace Sluice.Cli.Load;

/// <summary>
/// A bounded open-loop load: <see cref="Rate"/> requests a second for <see cref="Duration"/>, spread over API keys sent as
/// <c>X-API-Key</c>: the given <see cref="KeyList"/> in turn, else <see cref="Keys"/> made-up values.
/// </summary>
internal sealed record LoadSettings(Uri Url, double Rate, TimeSpan Duration, int Keys, string KeyPrefix, IReadOnlyList<string>? KeyList = null)
{
    /// <summary>The key of request <paramref name="index"/>, or null when no key is sent.</summary>
    public string? KeyFor(int index)
        => KeyList is { Count: > 0 } list ? list[index % list.Count]
            : Keys > 0 ? KeyPrefix + (index % Keys).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>The most requests a run may send, whatever the rate and duration.</summary>
    public const int MaxRequests = 1_000_000;

    public int Total => (int)Math.Min(MaxRequests, Math.Round(Rate * Duration.TotalSeconds));
}
