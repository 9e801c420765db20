using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sluice.AspNetCore.Middleware;

namespace Sluice.AspNetCore.Tests.Endpoints;

public sealed class RoutePatternTests
{
    private static Dictionary<string, string?> AuthLayer(params string[] patterns)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:auth:Key"] = "Ip",
            ["Sluice:Layers:auth:Scope"] = "Endpoint",
            ["Sluice:Layers:auth:Rates:0"] = "1/min",
        };
        for (var i = 0; i < patterns.Length; i++)
        {
            settings[$"Sluice:Layers:auth:Endpoints:{i}"] = patterns[i];
        }

        return settings;
    }

    private static void MapAuthAndOthers(WebApplication app)
    {
        app.MapPost("/api/auth/login", () => "ok");
        app.MapPost("/api/auth/reset/{token}", (string token) => token);
        app.MapGet("/api/auth/health", () => "ok").DisableRateLimit();
        app.MapGet("/api/other", () => "ok");
        app.MapPatch("/api/v1/domains/{name}/rrsets/", (string name) => name);
    }

    [Fact]
    public async Task AnEndpointLayersRoutePatterns_ApplyItToMatchingEndpoints_WithoutCode()
    {
        await using var app = await TestApp.StartAsync(AuthLayer("/api/auth/*"), MapAuthAndOthers);

        var login = await app.SendAsync(HttpMethod.Post, "/api/auth/login");
        var reset = await app.SendAsync(HttpMethod.Post, "/api/auth/reset/abc");
        var exempt = new[] { await app.GetAsync("/api/auth/health"), await app.GetAsync("/api/auth/health") };
        var other = new[] { await app.GetAsync("/api/other"), await app.GetAsync("/api/other") };

        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, reset.StatusCode);
        Assert.Contains("\"layer\":\"auth\"", await reset.Content.ReadAsStringAsync());
        Assert.All(exempt, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(other, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public async Task APatternWrittenAsMapped_MatchesTheRouteTemplate_WhateverTheCase()
    {
        await using var app = await TestApp.StartAsync(AuthLayer("/API/v1/domains/{name}/rrsets/"), MapAuthAndOthers);

        var first = await app.SendAsync(HttpMethod.Patch, "/api/v1/domains/example.com/rrsets/");
        var second = await app.SendAsync(HttpMethod.Patch, "/api/v1/domains/example.org/rrsets/");
        var login = await app.SendAsync(HttpMethod.Post, "/api/auth/login");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task BadRoutePatterns_StopStartup_WithEveryProblemListed()
    {
        var settings = AuthLayer("/api/auth/*", "api/login", "/api/nothing-here/*");
        settings["Sluice:Layers:everywhere:Key"] = "Ip";
        settings["Sluice:Layers:everywhere:Rates:0"] = "10/s";
        settings["Sluice:Layers:everywhere:Endpoints:0"] = "/api/other";

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings, MapAuthAndOthers));

        Assert.Contains("Sluice:Layers:auth:Endpoints:1 'api/login' is not a route pattern", error.Message);
        Assert.Contains("Sluice:Layers:everywhere:Endpoints applies only to an endpoint layer", error.Message);
        Assert.Equal(2, error.Problems.Count);
    }

    [Fact]
    public async Task APatternThatMatchesNoEndpoint_StopsStartup()
    {
        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(AuthLayer("/api/auth/*", "/api/logn"), MapAuthAndOthers));

        Assert.Equal("Sluice:Layers:auth:Endpoints:1 '/api/logn' matches no mapped endpoint.", Assert.Single(error.Problems));
    }

    [Theory]
    [InlineData("/api/auth/*", "/api/auth/login", true)]
    [InlineData("/api/auth/*", "/api/auth/", true)]
    [InlineData("/api/auth/*", "/api/auth", false)]
    [InlineData("/api/*/rrsets/", "/api/v1/domains/{name}/rrsets/", true)]
    [InlineData("/api/*/rrsets/", "/api/v1/domains/{name}/rrsets/{subname}", false)]
    [InlineData("*", "/anything", true)]
    [InlineData("/a*b*c", "/aXbYbZc", true)]
    [InlineData("/a*b*c", "/aXbYcZ", false)]
    [InlineData("/Login", "/login", true)]
    [InlineData("/login", "/login/", false)]
    public void Globs_MatchAnyRunOfCharacters_CaseInsensitively(string pattern, string template, bool expected)
        => Assert.Equal(expected, RoutePatternGlob.Matches(pattern, template));
}
