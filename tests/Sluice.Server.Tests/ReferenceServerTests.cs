using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Server.Tests;

public sealed class ReferenceServerTests : IClassFixture<WebApplicationFactory<Program>>
{
    private readonly WebApplicationFactory<Program> _factory;

    public ReferenceServerTests(WebApplicationFactory<Program> factory) => _factory = factory;

    [Fact]
    public async Task Healthz_IsExemptFromEveryLayer()
    {
        using var client = _factory.CreateClient();

        for (var i = 0; i < 120; i++)
        {
            var response = await client.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("X-RateLimit-Limit"));
        }
    }

    [Fact]
    public async Task TheAuthEndpoint_AllowsThreePerFifteenMinutes_ThenAnswers429RateLimited()
    {
        using var client = _factory
            .WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter, LoopbackClientStartupFilter>()))
            .CreateClient();

        var accepted = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            accepted.Add((await client.PostAsJsonAsync("/api/auth/resend-verification-public", new { email = "a@example.com" })).StatusCode);
        }

        var denied = await client.PostAsJsonAsync("/api/auth/resend-verification-public", new { email = "a@example.com" });
        using var body = JsonDocument.Parse(await denied.Content.ReadAsStringAsync());

        Assert.All(accepted, s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        Assert.Equal("RATE_LIMITED", body.RootElement.GetProperty("code").GetString());
        Assert.Equal("auth", body.RootElement.GetProperty("layer").GetString());
        Assert.True(int.Parse(denied.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 900);
    }

    [Fact]
    public void TheShippedConfiguration_HasTheSeedsLimits()
    {
        var configuration = (Microsoft.Extensions.Configuration.IConfiguration)_factory.Services.GetService(typeof(Microsoft.Extensions.Configuration.IConfiguration))!;

        Assert.Equal("100/min", configuration["Sluice:Layers:global-ip:Rates:0"]);
        Assert.Equal("60/min", configuration["Sluice:Layers:api-key:Rates:0"]);
        Assert.Equal("3/15min", configuration["Sluice:Layers:auth:Rates:0"]);
    }
}
