namespace Sluice.Cli.Load;

/// <summary>A bounded open-loop load: <see cref="Rate"/> requests a second for <see cref="Duration"/>, spread over <see cref="Keys"/> API keys.</summary>
internal sealed record LoadSettings(Uri Url, double Rate, TimeSpan Duration, int Keys, string KeyPrefix)
{
    /// <summary>The most requests a run may send, whatever the rate and duration.</summary>
    public const int MaxRequests = 1_000_000;

    public int Total => (int)Math.Min(MaxRequests, Math.Round(Rate * Duration.TotalSeconds));
}
