namespace Sluice.Quotas;

/// <summary>A quota's usage in the current period, read without charging.</summary>
/// <param name="Limit">The limit asked about.</param>
/// <param name="Used">Distinct items counted in the current period.</param>
/// <param name="ResetsAt">When the current period ends.</param>
public readonly record struct QuotaUsage(long Limit, long Used, DateTimeOffset ResetsAt)
{
    /// <summary>Items that may still be added in this period; never negative.</summary>
    public long Remaining => Math.Max(0, Limit - Used);
}
