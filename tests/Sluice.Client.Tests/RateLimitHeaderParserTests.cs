using System.Net;

namespace Sluice.Client.Tests;

public sealed class RateLimitHeaderParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static ServerLimits Parse(HttpStatusCode status, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(status);
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return RateLimitHeaderParser.Parse(response, Now);
    }

    [Fact]
    public void RetryAfterInSeconds_IsTheWait()
        => Assert.Equal(TimeSpan.FromSeconds(7), Parse(HttpStatusCode.TooManyRequests, ("Retry-After", "7")).Wait);

    [Fact]
    public void RetryAfterAsAnHttpDate_IsTheTimeUntilThatDate()
        => Assert.Equal(TimeSpan.FromSeconds(90), Parse(HttpStatusCode.TooManyRequests, ("Retry-After", "Mon, 23 Nov 2026 12:01:30 GMT")).Wait);

    [Fact]
    public void AnHttpDateInThePast_MeansNoWait()
        => Assert.Equal(TimeSpan.Zero, Parse(HttpStatusCode.TooManyRequests, ("Retry-After", "Mon, 23 Nov 2026 11:00:00 GMT")).Wait);

    [Fact]
    public void TheIetfRateLimitField_GivesTheWait_OfAnExhaustedPolicy()
    {
        var limits = Parse(HttpStatusCode.TooManyRequests, ("RateLimit", "\"api-key\";r=12;t=40, \"per-domain/s\";r=0;t=2"));

        Assert.Equal(TimeSpan.FromSeconds(2), limits.Wait);
        Assert.Equal("RateLimit", limits.WaitSource);
        Assert.Equal(TimeSpan.FromSeconds(2), limits.ExhaustedFor);
    }

    [Fact]
    public void AnExhaustedPolicyWithAPublishedRate_IsPacedByTheRate_NotPaused()
    {
        var limits = Parse(HttpStatusCode.OK, ("RateLimit-Policy", "\"per-domain/s\";q=2;w=1"), ("RateLimit", "\"per-domain/s\";r=0;t=2"));

        Assert.Null(limits.ExhaustedFor);
        Assert.Equal(new ClientRate(2, TimeSpan.FromSeconds(1)), limits.Policies["per-domain/s"]);
    }

    [Theory]
    [InlineData("X-RateLimit-Reset", "1795435230", 30)]
    [InlineData("X-RateLimit-Reset", "12", 12)]
    [InlineData("RateLimit-Reset", "1795435205", 5)]
    [InlineData("RateLimit-Reset", "9", 9)]
    public void ResetHeaders_AreReadAsEpochSecondsOrADelta(string header, string value, int seconds)
        => Assert.Equal(TimeSpan.FromSeconds(seconds), Parse(HttpStatusCode.TooManyRequests, (header, value)).Wait);

    [Fact]
    public void RetryAfter_WinsOverTheIetfField_WhichWinsOverXRateLimitReset()
    {
        var all = Parse(HttpStatusCode.TooManyRequests, ("Retry-After", "3"), ("RateLimit", "\"p\";r=0;t=8"), ("X-RateLimit-Reset", "20"));
        var noRetryAfter = Parse(HttpStatusCode.TooManyRequests, ("RateLimit", "\"p\";r=0;t=8"), ("X-RateLimit-Reset", "20"));
        var resetOnly = Parse(HttpStatusCode.TooManyRequests, ("X-RateLimit-Reset", "20"));

        Assert.Equal((TimeSpan.FromSeconds(3), "Retry-After"), (all.Wait!.Value, all.WaitSource));
        Assert.Equal((TimeSpan.FromSeconds(8), "RateLimit"), (noRetryAfter.Wait!.Value, noRetryAfter.WaitSource));
        Assert.Equal((TimeSpan.FromSeconds(20), "X-RateLimit-Reset"), (resetOnly.Wait!.Value, resetOnly.WaitSource));
    }

    [Fact]
    public void TheIetfPolicyField_PublishesRates()
    {
        var limits = Parse(HttpStatusCode.OK, ("RateLimit-Policy", "\"api-key\";q=60;w=60, \"dns/s\";q=2;w=1, \"day\";q=300;w=86400;pk=:abc=:"));

        Assert.Equal(new ClientRate(60, TimeSpan.FromMinutes(1)), limits.Policies["api-key"]);
        Assert.Equal(new ClientRate(2, TimeSpan.FromSeconds(1)), limits.Policies["dns/s"]);
        Assert.Equal(new ClientRate(300, TimeSpan.FromDays(1)), limits.Policies["day"]);
    }

    [Fact]
    public void XRateLimitRemainingZero_MarksTheScopeExhaustedUntilTheReset()
    {
        var limits = Parse(HttpStatusCode.OK, ("X-RateLimit-Limit", "60"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "1795435215"));

        Assert.Equal(TimeSpan.FromSeconds(15), limits.ExhaustedFor);
    }

    [Fact]
    public void ASuccessWithRequestsRemaining_AsksForNoWait()
    {
        var limits = Parse(HttpStatusCode.OK, ("X-RateLimit-Limit", "60"), ("X-RateLimit-Remaining", "59"), ("X-RateLimit-Reset", "1795435215"), ("RateLimit", "\"p\";r=59;t=15"));

        Assert.Null(limits.Wait);
        Assert.Null(limits.ExhaustedFor);
    }

    [Theory]
    [InlineData("Retry-After", "soon")]
    [InlineData("RateLimit", "garbage;;;")]
    [InlineData("X-RateLimit-Reset", "tomorrow")]
    public void MalformedHeaders_AreIgnored(string name, string value)
        => Assert.Null(Parse(HttpStatusCode.TooManyRequests, (name, value)).Wait);

    [Theory]
    [InlineData("X-RateLimit-Reset", "99999999999999")]
    [InlineData("X-RateLimit-Reset", "9223372036854775807")]
    [InlineData("RateLimit-Reset", "999999999999")]
    [InlineData("RateLimit", "\"p\";r=0;t=9223372036854775807")]
    [InlineData("RateLimit", "\"p\";r=0;t=99999999999999")]
    public void AWaitPastWhatADateHolds_IsReadAsTheLongestWait(string name, string value)
        => Assert.Equal(RateLimitHeaderParser.LongestWait, Parse(HttpStatusCode.TooManyRequests, (name, value)).Wait);

    [Theory]
    [InlineData("X-RateLimit-Reset", "-99999999999999")]
    [InlineData("RateLimit", "\"p\";r=0;t=-9223372036854775807")]
    public void ANegativeWait_IsNoWait(string name, string value)
        => Assert.Equal(TimeSpan.Zero, Parse(HttpStatusCode.TooManyRequests, (name, value)).Wait);

    [Fact]
    public void APolicyWindowPastTheLongestWait_IsIgnored()
        => Assert.Empty(Parse(HttpStatusCode.OK, ("RateLimit-Policy", "\"p\";q=5;w=9223372036854775807")).Policies);
}
