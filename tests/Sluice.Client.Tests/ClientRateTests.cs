namespace Sluice.Client.Tests;

public sealed class ClientRateTests
{
    [Theory]
    [InlineData("2/s", 2, 1)]
    [InlineData("15/min", 15, 60)]
    [InlineData("100/h", 100, 3600)]
    [InlineData("300/day", 300, 86400)]
    [InlineData("3/15min", 3, 900)]
    public void Rates_ParseToALimitAndPeriod(string text, long limit, int seconds)
        => Assert.Equal(new ClientRate(limit, TimeSpan.FromSeconds(seconds)), ClientRate.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("0/s")]
    [InlineData("2/fortnight")]
    [InlineData("two/s")]
    [InlineData("5/99999999999999day")]
    public void BadRates_AreRefused_QuotingTheText(string text)
        => Assert.Contains($"'{text}'", Assert.Throws<FormatException>(() => ClientRate.Parse(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void AList_ParsesEveryRate()
        => Assert.Equal(4, ClientRate.ParseList("2/s, 15/min, 100/h, 300/day").Count);

    [Fact]
    public void ARate_PrintsInItsLargestWholeUnit() => Assert.Equal("3/15min", ClientRate.Parse("3/900s").ToString());
}
