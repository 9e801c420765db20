using System.Net;

namespace Sluice.Server.Tests;

public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly ServerHost _host = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task TheSixtyFirstRequestOfAKeyInAMinute_Gets429RateLimited_WithRetryAfterAndHeaders()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);
        }

        var denied = await client.GetAsync("/api/me");
        var body = await ServerHost.Json(denied);
        _host.Time.Advance(TimeSpan.FromMinutes(1));
        var nextWindow = await client.GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        Assert.Equal("RATE_LIMITED", body.GetProperty("code").GetString());
        Assert.Equal("api-key", body.GetProperty("layer").GetString());
        Assert.Equal("60", denied.Headers.GetValues("Retry-After").Single());
        Assert.Equal("0", denied.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(_host.Time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), denied.Headers.GetValues("X-RateLimit-Reset").Single());
        Assert.Equal(HttpStatusCode.OK, nextWindow.StatusCode);
    }

    [Theory]
    [InlineData("POST", "/api/certificates", "{")]
    [InlineData("POST", "/api/certificates", "[1,")]
    [InlineData("GET", "/api/certificates?page=abc", null)]
    [InlineData("GET", "/api/certificates?page_size=999999999999", null)]
    public async Task AnApiKeyRequestThatFailsToBind_StillCarriesTheRateLimitHeaders(string method, string url, string? json)
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("60", response.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("59", response.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Single(response.Headers.GetValues("X-RateLimit-Reset"));
    }

    [Fact]
    public async Task KeysAreLimitedIndependently()
    {
        var (_, _, first) = await _host.NewCustomerAsync();
        var (_, _, second) = await _host.NewCustomerAsync();
        for (var i = 0; i < 60; i++)
        {
            await first.GetAsync("/api/me");
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await first.GetAsync("/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task TheIpLayer_CountsEveryRoute_AcrossKeys_IncludingUnauthenticatedRequests()
    {
        var (_, _, first) = await _host.NewCustomerAsync();
        var (_, _, second) = await _host.NewCustomerAsync();
        using var anonymous = _host.Anonymous();
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/me")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/api/me")).StatusCode);
        }

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/certificates")).StatusCode);
        }

        var denied = await second.GetAsync("/api/me");
        var body = await ServerHost.Json(denied);

        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        Assert.Equal("global-ip", body.GetProperty("layer").GetString());
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task ADeniedRequest_ChargesNoOtherLayer()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        for (var i = 0; i < 61; i++)
        {
            await client.GetAsync("/api/me");
        }

        var (_, _, other) = await _host.NewCustomerAsync();
        for (var i = 0; i < 38; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/me")).StatusCode);
        }
    }
}
