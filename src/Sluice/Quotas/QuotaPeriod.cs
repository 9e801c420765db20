namespace Sluice.Quotas;

/// <summary>The calendar period a quota counts over. Periods are aligned to UTC calendar boundaries, not to first use.</summary>
public enum QuotaPeriod
{
    /// <summary>A calendar month in UTC: from the 1st at 00:00:00Z to the 1st of the next month.</summary>
    Month,

    /// <summary>A calendar day in UTC: from 00:00:00Z to the next midnight.</summary>
    Day,
}
