using System.Net;
using Microsoft.AspNetCore.Builder;

namespace Sluice.AspNetCore.Tests.Options;

/// <summary>docs/migrating.md's Sluice configuration, read from the page itself, starts and holds the limits the page gives it.</summary>
public sealed class MigrationGuideTests
{
    private static Dictionary<string, string?> GuideSettings() => DocExample.Settings("docs/migrating.md", "### The same limits in Sluice");

    private static void Map(WebApplication app)
    {
        app.MapGet("/api/items", () => "items");
        app.MapPost("/api/auth/login", () => "ok");
        app.MapGet("/api/auth/login", () => "form");
    }

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, HttpMethod method, string path, string remote, string? realIp = null, string? clientId = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add(TestApp.RemoteHeader, remote);
        if (realIp is not null)
        {
            request.Headers.Add("X-Real-IP", realIp);
        }

        if (clientId is not null)
        {
            request.Headers.Add("X-ClientId", clientId);
        }

        return await app.Client.SendAsync(request);
    }

    private static async Task<List<HttpStatusCode>> Codes(int count, Func<Task<HttpResponseMessage>> send)
    {
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            codes.Add((await send()).StatusCode);
        }

        return codes;
    }

    [Fact]
    public async Task TheIpRules_HoldPerClientAddress_AndTheWhitelistIsExempt()
    {
        await using var app = await TestApp.StartAsync(GuideSettings(), Map);

        var direct = await Codes(3, () => SendAsync(app, HttpMethod.Get, "/api/items", "203.0.113.5"));
        var whitelisted = await Codes(5, () => SendAsync(app, HttpMethod.Get, "/api/items", "192.168.0.7"));
        var denied = await SendAsync(app, HttpMethod.Get, "/api/items", "203.0.113.5");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], direct);
        Assert.All(whitelisted, c => Assert.Equal(HttpStatusCode.OK, c));
        Assert.Equal("1", denied.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task XRealIp_IsBelievedFromTheTrustedProxyOnly()
    {
        await using var app = await TestApp.StartAsync(GuideSettings(), Map);

        var viaProxy = await Codes(3, () => SendAsync(app, HttpMethod.Get, "/api/items", "10.0.0.1", realIp: "198.51.100.9"));
        var otherClientViaProxy = await SendAsync(app, HttpMethod.Get, "/api/items", "10.0.0.1", realIp: "198.51.100.10");
        var n = 0;
        var spoofing = await Codes(3, () => SendAsync(app, HttpMethod.Get, "/api/items", "203.0.113.77", realIp: "198.51.100." + (50 + n++)));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], viaProxy);
        Assert.Equal(HttpStatusCode.OK, otherClientViaProxy.StatusCode);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], spoofing);
    }

    [Fact]
    public async Task TheAuthRule_LimitsWritesToAuthEndpoints_FivePerMinute()
    {
        await using var app = await TestApp.StartAsync(GuideSettings(), Map);
        var posts = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            // A second apart, so that the IP layer's 2/s never decides.
            posts.Add((await SendAsync(app, HttpMethod.Post, "/api/auth/login", "198.51.100.20")).StatusCode);
            app.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var read = await SendAsync(app, HttpMethod.Get, "/api/auth/login", "198.51.100.20");

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), HttpStatusCode.TooManyRequests], posts);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task TheClientLayer_IsTheHeadline_AndItsWhitelistedClientSkipsIt()
    {
        await using var app = await TestApp.StartAsync(GuideSettings(), Map);

        var client = await SendAsync(app, HttpMethod.Get, "/api/items", "198.51.100.30", clientId: "c1");
        var whitelisted = await SendAsync(app, HttpMethod.Get, "/api/items", "198.51.100.31", clientId: "dev-id-1");

        Assert.Equal("1000", client.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("999", client.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.False(whitelisted.Headers.Contains("X-RateLimit-Limit"));
    }
}
