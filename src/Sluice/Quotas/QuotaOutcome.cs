namespace Sluice.Quotas;

/// <summary>What a quota charge did.</summary>
public enum QuotaOutcome
{
    /// <summary>The item was new in this period and there was room: it now counts.</summary>
    Charged,

    /// <summary>The item already counted in this period: allowed, and nothing more was charged.</summary>
    AlreadyCounted,

    /// <summary>The item was new and the quota is used up: refused, and nothing was charged.</summary>
    Exceeded,
}
