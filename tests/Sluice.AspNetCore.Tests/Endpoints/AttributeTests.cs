using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Tests.Endpoints;

public sealed class AttributeTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Sluice:RateLimitHeaders"] = "false",
        ["Sluice:Layers:global-ip:Key"] = "Ip",
        ["Sluice:Layers:global-ip:Rates:0"] = "2/min",
        ["Sluice:Layers:auth:Key"] = "Ip",
        ["Sluice:Layers:auth:Scope"] = "Endpoint",
        ["Sluice:Layers:auth:Rates:0"] = "1/min",
    };

    [Fact]
    public async Task RateLimitAttribute_OnAHandler_AppliesTheEndpointLayer()
    {
        await using var app = await TestApp.StartAsync(Settings, a => a.MapPost("/login", [RateLimit("auth")] () => "ok"));

        var first = await app.SendAsync(HttpMethod.Post, "/login");
        var second = await app.SendAsync(HttpMethod.Post, "/login");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
    }

    [Fact]
    public async Task DisableRateLimitAttribute_OnAHandler_ExemptsItFromGlobalLayers()
    {
        await using var app = await TestApp.StartAsync(Settings, a => a.MapGet("/bulk", [DisableRateLimit] () => "ok"));

        var responses = new[] { await app.GetAsync("/bulk"), await app.GetAsync("/bulk"), await app.GetAsync("/bulk") };

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Theory]
    [InlineData("User")]
    [InlineData("Claim:tenant")]
    [InlineData("Header:X-Tenant")]
    public async Task UserClaimAndHeaderKeys_PartitionByTheirValue_AndSkipRequestsWithout(string key)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:tenant:Key"] = key,
            ["Sluice:Layers:tenant:Rates:0"] = "1/min",
        };
        await using var app = await TestApp.StartAsync(settings, a => a.MapGet("/t", () => "ok"), beforeSluice: a =>
        {
            // A stand-in for authentication, placed before UseSluice as UseAuthentication would be: the X-Tenant
            // header signs the request in as that user and tenant.
            a.Use((context, next) =>
            {
                var tenant = context.Request.Headers["X-Tenant"].ToString();
                if (tenant.Length > 0)
                {
                    context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, tenant), new Claim("tenant", tenant)], "test"));
                }

                return next(context);
            });
        });

        async Task<HttpStatusCode> Get(string? tenant)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/t");
            if (tenant is not null)
            {
                request.Headers.Add("X-Tenant", tenant);
            }

            return (await app.Client.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Get("a"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Get("a"));
        Assert.Equal(HttpStatusCode.OK, await Get("b"));
        Assert.Equal(HttpStatusCode.OK, await Get(null));
        Assert.Equal(HttpStatusCode.OK, await Get(null));
    }
}
