namespace Sluice.Cli.Load;

/// <summary>Status counts and latency percentiles of a load run.</summary>
internal sealed record LoadReport(int Sent, IReadOnlyDictionary<string, int> Statuses, double P50Ms, double P90Ms, double P99Ms, double MaxMs, double WallSeconds);
