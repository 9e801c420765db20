using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests.Endpoints;

/// <summary>The attributes on MVC controllers and actions, where most applications put them.</summary>
public sealed class ControllerTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Sluice:RateLimitHeaders"] = "false",
        ["Sluice:Layers:global-ip:Key"] = "Ip",
        ["Sluice:Layers:global-ip:Rates:0"] = "3/min",
        ["Sluice:Layers:auth:Key"] = "Ip",
        ["Sluice:Layers:auth:Scope"] = "Endpoint",
        ["Sluice:Layers:auth:Rates:0"] = "1/min",
        ["Sluice:Layers:reports:Key"] = "Ip",
        ["Sluice:Layers:reports:Scope"] = "Endpoint",
        ["Sluice:Layers:reports:Rates:0"] = "2/min",
    };

    private static Task<TestApp> StartAsync(Dictionary<string, string?>? settings = null) => TestApp.StartAsync(
        settings ?? Settings,
        map: a => a.MapControllers(),
        services: s => s.AddControllers().AddApplicationPart(typeof(ControllerTests).Assembly));

    [Fact]
    public async Task RateLimitOnAController_AppliesToEachOfItsActions_AndOnAnAction_ToThatActionOnly()
    {
        await using var app = await StartAsync();

        var login = new[] { await app.SendAsync(HttpMethod.Post, "/account/login", remote: "192.0.2.10"), await app.SendAsync(HttpMethod.Post, "/account/login", remote: "192.0.2.10") };
        var reset = new[] { await app.SendAsync(HttpMethod.Post, "/account/reset", remote: "192.0.2.11"), await app.SendAsync(HttpMethod.Post, "/account/reset", remote: "192.0.2.11") };
        var report = new[] { await app.GetAsync("/reports/daily", remote: "192.0.2.12"), await app.GetAsync("/reports/daily", remote: "192.0.2.12"), await app.GetAsync("/reports/daily", remote: "192.0.2.12") };
        var list = new[] { await app.GetAsync("/reports", remote: "192.0.2.13"), await app.GetAsync("/reports", remote: "192.0.2.13"), await app.GetAsync("/reports", remote: "192.0.2.13") };

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], login.Select(r => r.StatusCode));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], reset.Select(r => r.StatusCode));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], report.Select(r => r.StatusCode));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], list.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task DisableRateLimitOnAnAction_ExemptsItFromEveryLayer_EvenInsideALimitedController()
    {
        await using var app = await StartAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await app.SendAsync(HttpMethod.Post, "/account/logout", remote: "192.0.2.20")).StatusCode);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task AControllerNamingAMissingLayer_StopsStartup()
    {
        var settings = new Dictionary<string, string?>(Settings);
        settings.Remove("Sluice:Layers:reports:Key");
        settings.Remove("Sluice:Layers:reports:Scope");
        settings.Remove("Sluice:Layers:reports:Rates:0");

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => StartAsync(settings));

        Assert.Contains(error.Problems, p => p.Contains("requires rate-limit layer 'reports', which is not configured under Sluice:Layers.", StringComparison.Ordinal));
    }
}

[ApiController]
[Route("account")]
[RateLimit("auth")]
public sealed class AccountController : ControllerBase
{
    [HttpPost("login")]
    public string Login() => "ok";

    [HttpPost("reset")]
    public string Reset() => "ok";

    [HttpPost("logout")]
    [DisableRateLimit]
    public string Logout() => "ok";
}

[ApiController]
[Route("reports")]
public sealed class ReportsController : ControllerBase
{
    [HttpGet]
    public string List() => "ok";

    [HttpGet("daily")]
    [RateLimit("reports")]
    public string Daily() => "ok";
}
