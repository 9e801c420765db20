using System.Globalization;

namespace Sluice.Tests.Rates;

public sealed class RateTests
{
    [Theory]
    [InlineData("100/min", 100, 60)]
    [InlineData("3/15min", 3, 900)]
    [InlineData("2/s", 2, 1)]
    [InlineData("300/day", 300, 86400)]
    [InlineData("1000/h", 1000, 3600)]
    [InlineData("2/2min", 2, 120)]
    [InlineData(" 10 / 1 second ", 10, 1)]
    [InlineData("5/2Hours", 5, 7200)]
    [InlineData("7/week", 7, 604800)]
    public void Parse_ReadsLimitAndPeriod(string text, long limit, int seconds)
    {
        var rate = Rate.Parse(text);

        Assert.Equal(limit, rate.Limit);
        Assert.Equal(TimeSpan.FromSeconds(seconds), rate.Period);
    }

    [Fact]
    public void Parse_ReadsMilliseconds()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(250), Rate.Parse("1/250ms").Period);
    }

    [Theory]
    [InlineData("", "no '/'")]
    [InlineData("100", "no '/'")]
    [InlineData("abc/min", "limit 'abc'")]
    [InlineData("0/min", "limit '0'")]
    [InlineData("-1/min", "limit '-1'")]
    [InlineData("1.5/min", "limit '1.5'")]
    [InlineData("10/", "no unit")]
    [InlineData("10/fortnight", "unit 'fortnight'")]
    [InlineData("10/0min", "multiplier '0'")]
    [InlineData("99999999999/s", "limit")]
    [InlineData("5/500us", "at least 1 ms")]
    [InlineData("5/1µs", "at least 1 ms")]
    public void Parse_RejectsBadText_QuotingIt(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => Rate.Parse(text));
        var parsed = Rate.TryParse(text, out _, out var why);

        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.False(parsed);
        Assert.Contains(reason, why);
    }

    [Fact]
    public void Parse_IgnoresTheCurrentCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            // Turkish lower-cases 'I' to a dotless 'ı', which breaks culture-sensitive unit matching.
            CultureInfo.CurrentCulture = new CultureInfo("tr-TR");
            Assert.Equal(new Rate(1000, TimeSpan.FromMinutes(1)), Rate.Parse("1000/MIN"));
            Assert.Equal("1000/min", Rate.Parse("1000/MIN").ToString());
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Theory]
    [InlineData("100/min")]
    [InlineData("3/15min")]
    [InlineData("2/s")]
    [InlineData("300/day")]
    [InlineData("1/250ms")]
    [InlineData("2/2min")]
    public void ToString_RoundTripsThroughParse(string text)
    {
        var rate = Rate.Parse(text);

        Assert.Equal(text, rate.ToString());
        Assert.Equal(rate, Rate.Parse(rate.ToString()));
    }

    [Fact]
    public void TryParse_ReturnsFalseWithAReason()
    {
        Assert.False(Rate.TryParse("x", out _, out var error));
        Assert.Contains("no '/'", error);
        Assert.False(Rate.TryParse(null, out _));
        Assert.True(Rate.TryParse("1/s", out var rate));
        Assert.Equal(1, rate.Limit);
    }

    [Fact]
    public void Ctor_RejectsOutOfRangeValues()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rate(0, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rate(1, TimeSpan.FromTicks(5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rate(Rate.MaxLimit + 1, TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData("10/s", 50, "50/5s")]
    [InlineData("3/min", 10, "10/200s")]
    [InlineData("7/s", 10, "10/1428572us")]
    [InlineData("100/min", 100, "100/min")]
    [InlineData("60/min", 1, "1/s")]
    public void WithBurst_MakesTheBucketSizeTheLimit_AndKeepsThePace(string text, long burst, string expected)
    {
        var rate = Rate.Parse(text);

        var bucket = rate.WithBurst(burst);

        Assert.Equal(expected, bucket.ToString());
        Assert.Equal(bucket, Rate.Parse(bucket.ToString()));
        Assert.Equal(Sluice.Algorithms.TokenBucketAlgorithm.EmissionInterval(rate), Sluice.Algorithms.TokenBucketAlgorithm.EmissionInterval(bucket));
    }

    [Fact]
    public void WithBurst_KeepsTheTokenIntervalForAnyRateAndBurst()
    {
        var random = new Random(7);
        for (var i = 0; i < 10_000; i++)
        {
            var rate = new Rate(random.Next(1, 5_000), TimeSpan.FromMicroseconds(random.NextInt64(1_000, 100_000_000_000)));
            var burst = random.Next(1, 100_000);

            Assert.Equal(Sluice.Algorithms.TokenBucketAlgorithm.EmissionInterval(rate), Sluice.Algorithms.TokenBucketAlgorithm.EmissionInterval(rate.WithBurst(burst)));
        }
    }

    [Fact]
    public void WithBurst_OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Rate.Parse("10/s").WithBurst(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rate.Parse("10/s").WithBurst(Rate.MaxLimit + 1));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Rate.Parse("1/week").WithBurst(Rate.MaxLimit));
        Assert.Contains("longer than 100 years", error.Message);
    }

    [Theory]
    [InlineData("10000/s", 5, 10)]
    [InlineData("2000/s", 1, 2)]
    [InlineData("3000/s", 2, 3)]
    [InlineData("2147483647/s", 1, 2145337)]
    public void WithBurst_ABucketShorterThanAMillisecond_NamesTheSmallestBurstThatWorks(string text, long burst, long smallest)
    {
        var rate = Rate.Parse(text);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => rate.WithBurst(burst));

        Assert.StartsWith($"A burst of {burst} at {text} empties in ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"use a burst of at least {smallest}.", error.Message, StringComparison.Ordinal);
        Assert.True(rate.WithBurst(smallest).Period >= TimeSpan.FromMilliseconds(1));
    }
}
