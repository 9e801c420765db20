namespace Sluice.Quotas;

/// <summary>Calendar arithmetic for <see cref="QuotaPeriod"/>: where the period containing an instant starts and ends.</summary>
public static class QuotaPeriodExtensions
{
    /// <summary>The UTC start of the period that contains <paramref name="now"/>.</summary>
    public static DateTimeOffset StartOf(this QuotaPeriod period, DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        return period switch
        {
            QuotaPeriod.Month => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
            QuotaPeriod.Day => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, "Unknown quota period."),
        };
    }

    /// <summary>The UTC instant at which the period that contains <paramref name="now"/> ends and usage resets.</summary>
    public static DateTimeOffset ResetAfter(this QuotaPeriod period, DateTimeOffset now)
    {
        var start = period.StartOf(now);
        return period == QuotaPeriod.Month ? start.AddMonths(1) : start.AddDays(1);
    }

    /// <summary>A stable, sortable name of the period containing <paramref name="now"/>: <c>2026-11</c> or <c>2026-11-23</c>.</summary>
    public static string NameOf(this QuotaPeriod period, DateTimeOffset now)
    {
        var start = period.StartOf(now);
        return period == QuotaPeriod.Month
            ? start.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture)
            : start.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
    }
}
