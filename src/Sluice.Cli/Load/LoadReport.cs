namespace Sluice.Cli.Load;

/// <summary>Status counts and latency percentiles of a load run (the percentiles over the requests that got an answer or failed).</summary>
internal sealed record LoadReport(int Sent, IReadOnlyDictionary<string, int> Statuses, double P50Ms, double P90Ms, double P99Ms, double MaxMs, double WallSeconds)
{
    /// <summary>Whether the run was stopped (Ctrl+C) before it sent every request: the figures cover what was sent.</summary>
    public bool Interrupted { get; init; }
}
