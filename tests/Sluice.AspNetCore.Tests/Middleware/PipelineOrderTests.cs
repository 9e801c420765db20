using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sluice.AspNetCore.Tests.Middleware;

/// <summary>Sluice beside the middleware the configuration reference places before it.</summary>
public sealed class PipelineOrderTests
{
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    [InlineData(null, 0)]
    public async Task UseSluiceBeforeUseRouting_IsLoggedOnceAsAnError(bool? routingFirst, int expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:global-ip:Key"] = "Ip",
            ["Sluice:Layers:global-ip:Rates:0"] = "100/min",
            ["Sluice:Layers:auth:Key"] = "Ip",
            ["Sluice:Layers:auth:Scope"] = "Endpoint",
            ["Sluice:Layers:auth:Rates:0"] = "1/min",
            ["Sluice:RateLimitHeaders"] = "false",
        };
        await using var app = await TestApp.StartAsync(settings, a => a.MapGet("/login", () => "ok").RequireRateLimit("auth"), routingBeforeSluice: routingFirst);

        var first = await app.GetAsync("/login");
        var second = await app.GetAsync("/login");
        await app.GetAsync("/nothing-here");
        var errors = app.Logs.Entries.Where(e => e.Id.Id == 6 && e.Message.StartsWith("UseSluice() runs before UseRouting()", StringComparison.Ordinal)).ToList();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(routingFirst == false ? HttpStatusCode.OK : HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(expected, errors.Count);
        Assert.All(errors, e => Assert.Equal(LogLevel.Error, e.Level));
    }

    [Fact]
    public async Task WithUseCorsBeforeUseSluice_ABrowserCanReadA429_AndPreflightsCostNothing()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:global-ip:Key"] = "Ip",
            ["Sluice:Layers:global-ip:Rates:0"] = "2/min",
            ["Sluice:Layers:global-ip:Headline"] = "true",
        };
        await using var app = await TestApp.StartAsync(
            settings,
            services: s => s.AddCors(o => o.AddDefaultPolicy(p => p.WithOrigins("https://app.example").WithExposedHeaders("Retry-After", "X-RateLimit-Remaining"))),
            beforeSluice: a => a.UseCors());

        var preflights = new List<HttpResponseMessage>();
        for (var i = 0; i < 5; i++)
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/ping");
            preflight.Headers.Add("Origin", "https://app.example");
            preflight.Headers.Add("Access-Control-Request-Method", "GET");
            preflights.Add(await app.Client.SendAsync(preflight));
        }

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/ping");
            request.Headers.Add("Origin", "https://app.example");
            answers.Add(await app.Client.SendAsync(request));
        }

        Assert.All(preflights, p => Assert.Equal(HttpStatusCode.NoContent, p.StatusCode));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], answers.Select(a => a.StatusCode));
        Assert.Equal("https://app.example", answers[2].Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Retry-After", answers[2].Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.OrdinalIgnoreCase);
    }
}
