using Sluice.Quotas;

namespace Sluice.Tests.Quotas;

public sealed class QuotaPeriodTests
{
    [Theory]
    [InlineData("2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "2026-12")]
    [InlineData("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-02")]
    [InlineData("2028-02-29T12:00:00+05:00", "2028-03-01T00:00:00Z", "2028-02")]
    public void AMonth_EndsOnTheFirstOfTheNextUtcMonth(string now, string reset, string name)
    {
        var instant = DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(DateTimeOffset.Parse(reset, System.Globalization.CultureInfo.InvariantCulture), QuotaPeriod.Month.ResetAfter(instant));
        Assert.Equal(name, QuotaPeriod.Month.NameOf(instant));
    }

    [Fact]
    public void AnInstantWithAnOffset_BelongsToItsUtcDay()
    {
        var instant = new DateTimeOffset(2026, 11, 1, 1, 0, 0, TimeSpan.FromHours(3));

        Assert.Equal("2026-10-31", QuotaPeriod.Day.NameOf(instant));
        Assert.Equal("2026-10", QuotaPeriod.Month.NameOf(instant));
    }
}
