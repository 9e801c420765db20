using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
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

    [Theory]
    [InlineData("after", 1)]
    [InlineData("before", 0)]
    [InlineData("implicit", 0)]
    public async Task UseAuthenticationAfterUseSluice_WithALayerKeyedOnTheUser_IsLoggedOnceAsAnError(string authentication, int expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:per-user:Key"] = "User",
            ["Sluice:Layers:per-user:Rates:0"] = "1/min",
            ["Sluice:RateLimitHeaders"] = "false",
        };
        await using var app = await TestApp.StartAsync(
            settings,
            map: a =>
            {
                if (authentication == "after")
                {
                    a.UseAuthentication();
                }

                a.MapGet("/me", () => "ok");
            },
            services: s => s.AddAuthentication(TestUserHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestUserHandler>(TestUserHandler.SchemeName, null),
            beforeSluice: a =>
            {
                if (authentication == "before")
                {
                    a.UseAuthentication();
                }
            });

        var statuses = new List<HttpStatusCode>();
        foreach (var user in (string?[])[null, "alice", "alice", "alice"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/me");
            if (user is not null)
            {
                request.Headers.Add(TestUserHandler.Header, user);
            }

            statuses.Add((await app.Client.SendAsync(request)).StatusCode);
        }

        var errors = app.Logs.Entries.Where(e => e.Id.Id == 10 && e.Message.Contains("was authenticated after Sluice decided", StringComparison.Ordinal)).ToList();

        // In force, the per-user layer admits alice once a minute; authenticated after Sluice, it never applies.
        Assert.Equal(
            authentication == "after" ? [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK] : [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests],
            statuses);
        Assert.Equal(expected, errors.Count);
        Assert.All(errors, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.All(errors, e => Assert.StartsWith("Layer 'per-user' keys on the user or a claim, but GET /me was authenticated after Sluice decided", e.Message, StringComparison.Ordinal));
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

    /// <summary>Authenticates a request as the user named in <see cref="Header"/>.</summary>
    private sealed class TestUserHandler(Microsoft.Extensions.Options.IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "TestUser";

        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
            => Task.FromResult(Request.Headers[Header].ToString() is { Length: > 0 } name
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName)), SchemeName))
                : AuthenticateResult.NoResult());
    }
}
