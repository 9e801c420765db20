namespace Sluice.Cli.Acme;

/// <summary>What one run of the lego scenario did.</summary>
internal sealed record AcmeReport(string Mode, int Names, int Requests, int Throttled, double WallSeconds, double TheoreticalMinSeconds, double FastestRoundTripSeconds)
{
    /// <summary>Wall time over the theoretical minimum.</summary>
    public double Ratio => TheoreticalMinSeconds > 0 ? WallSeconds / TheoreticalMinSeconds : double.NaN;
}
