using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Tests.Options;

/// <summary>The README's "In your own API" configuration, read from the README itself, starts and does what it says.</summary>
public sealed class ReadmeExampleTests
{
    private static Dictionary<string, string?> ReadmeSettings() => DocExample.Settings("README.md", "## In your own API");

    private static void Map(WebApplication app)
    {
        app.MapGet("/api/me", () => "me");
        app.MapPost("/api/auth/login", () => "ok");
        app.MapPatch("/api/v1/domains/{domain}/rrsets/", (string domain) => domain).WithRateLimitCost(_ => 1);
        app.MapPost("/api/certificates/bulk", () => "ok").DisableRateLimit();
    }

    [Fact]
    public async Task TheReadmesConfiguration_StartsAndEnforcesEveryLayerItShows()
    {
        await using var app = await TestApp.StartAsync(ReadmeSettings(), Map);

        var logins = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            logins.Add(await app.SendAsync(HttpMethod.Post, "/api/auth/login", remote: "198.51.100.1"));
        }

        var writes = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            writes.Add(await app.SendAsync(HttpMethod.Patch, "/api/v1/domains/example.com/rrsets/", apiKey: "w", remote: "198.51.100.2"));
        }

        var reads = new List<HttpResponseMessage>();
        for (var i = 0; i < 51; i++)
        {
            reads.Add(await app.GetAsync("/api/me", apiKey: "r", remote: "192.0.2.9"));
        }

        var (exempt, counted) = (new List<HttpStatusCode>(), new List<HttpStatusCode>());
        for (var i = 0; i < 101; i++)
        {
            exempt.Add((await app.GetAsync("/api/me", remote: "192.0.2.10")).StatusCode);
            counted.Add((await app.GetAsync("/api/me", remote: "203.0.113.3")).StatusCode);
        }

        var uploads = new List<HttpResponseMessage>();
        for (var i = 0; i < 5; i++)
        {
            uploads.Add(await app.SendAsync(HttpMethod.Post, "/api/certificates/bulk", remote: "198.51.100.1"));
        }

        Assert.All(logins.Take(3), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Contains("\"layer\":\"auth\"", await logins[3].Content.ReadAsStringAsync());
        Assert.All(writes.Take(2), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Contains("\"layer\":\"domain-writes\"", await writes[2].Content.ReadAsStringAsync());
        Assert.All(reads.Take(50), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal("60", reads[0].Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Contains("\"layer\":\"reads\"", await reads[50].Content.ReadAsStringAsync());
        Assert.All(exempt, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(100, counted.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, counted[100]);
        Assert.All(uploads, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }
}
