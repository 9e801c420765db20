namespace Sluice.Quotas;

/// <summary>The answer to one quota charge: what happened and the usage after it.</summary>
/// <param name="Outcome">Charged, already counted, or exceeded.</param>
/// <param name="Limit">The limit the charge was checked against.</param>
/// <param name="Used">Distinct items counted in the period after this charge.</param>
/// <param name="ResetsAt">When the period ends and usage starts again from zero.</param>
public readonly record struct QuotaDecision(QuotaOutcome Outcome, long Limit, long Used, DateTimeOffset ResetsAt)
{
    /// <summary>True unless the quota refused the item.</summary>
    public bool IsAllowed => Outcome != QuotaOutcome.Exceeded;

    /// <summary>Items that may still be added in this period; never negative (a lowered limit can leave usage above it).</summary>
    public long Remaining => Math.Max(0, Limit - Used);
}
