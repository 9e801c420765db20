using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sluice.AspNetCore.Tests.Options;

public sealed class ConfigurationTests
{
    [Fact]
    public void Options_Ctor_EnsureDefaults()
    {
        var options = new SluiceOptions();
        var layer = new SluiceLayerOptions();

        Assert.True(options.Enabled);
        Assert.Equal("Memory", options.Store);
        Assert.True(options.RateLimitHeaders);
        Assert.False(options.IetfHeaders);
        Assert.Equal(429, options.RejectionStatusCode);
        Assert.Equal(1, options.UnknownRetryAfterSeconds);
        Assert.Empty(options.ClientIp.TrustedProxies);
        Assert.Equal("X-Forwarded-For", options.ClientIp.ForwardedHeader);
        Assert.False(options.ClientIp.GroupIPv6By64);
        Assert.Empty(options.ApiKey.AuthorizationSchemes);
        Assert.Equal("X-API-Key", options.ApiKey.Header);
        Assert.Null(options.Cost);
        Assert.Null(options.OnRejected);
        Assert.Equal("Ip", layer.Key);
        Assert.Equal("FixedWindow", layer.Algorithm);
        Assert.Equal("Global", layer.Scope);
        Assert.Equal("All", layer.Methods);
        Assert.False(layer.Shadow);
        Assert.False(layer.Headline);
        Assert.Equal(10, layer.SlidingWindowSegments);
        Assert.Empty(layer.Exempt);
    }

    [Fact]
    public async Task InvalidConfiguration_StopsStartup_WithOneMessageListingEveryProblem()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:a:Key"] = "Cookie",
            ["Sluice:Layers:a:Rates:0"] = "100/min",
            ["Sluice:Layers:b:Key"] = "Ip",
            ["Sluice:Layers:b:Rates:0"] = "3/15mn",
            ["Sluice:Layers:b:Algorithm"] = "Leaky",
            ["Sluice:Layers:c:Key"] = "Ip",
            ["Sluice:Layers:c:Rates:0"] = "10/s",
            ["Sluice:Layers:c:Rates:1"] = "10/500us",
            ["Sluice:ClientIp:TrustedProxies:0"] = "not-an-ip",
            ["Sluice:Layers:c:Exempt:0"] = "10.0.0.0/8",
            ["Sluice:Layers:c:Exempt:1"] = "office",
            ["Sluice:Layers:c:Exempt:2"] = " ",
        };

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() =>
            TestApp.StartAsync(settings, app => app.MapGet("/x", () => "x").RequireRateLimit("missing")));

        Assert.Contains("Sluice:Layers:a:Key 'Cookie' is not a key kind", error.Message);
        Assert.Contains("Sluice:Layers:b:Rates:0 '3/15mn' is not a valid rate", error.Message);
        Assert.Contains("Sluice:Layers:b:Algorithm 'Leaky' is unknown", error.Message);
        Assert.Contains("No headline layer", error.Message);
        Assert.Contains("'not-an-ip' is not an IP address", error.Message);
        Assert.Contains("Sluice:Layers:c:Exempt:1 'office' is not an IP address or network", error.Message);
        Assert.Contains("Sluice:Layers:c:Exempt:2 is empty", error.Message);
        Assert.Contains("Sluice:Layers:c:Rates:1 '10/500us' is not a valid rate: the period is shorter than 1 ms", error.Message);
        Assert.Contains("Endpoint 'HTTP: GET /x' requires rate-limit layer 'missing', which is not configured under Sluice:Layers.", error.Problems);
        Assert.Equal(9, error.Problems.Count);
    }

    [Fact]
    public async Task UnknownScopesAndMethods_SeveralHeadlines_AndBadGlobalSettings_AreAllListed()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:UnknownRetryAfterSeconds"] = "-1",
            ["Sluice:ClientIp:ForwardedHeader"] = " ",
            ["Sluice:Layers:a:Key"] = "Ip",
            ["Sluice:Layers:a:Rates:0"] = "100/min",
            ["Sluice:Layers:a:Scope"] = "Route",
            ["Sluice:Layers:a:Headline"] = "true",
            ["Sluice:Layers:b:Key"] = "Ip",
            ["Sluice:Layers:b:Rates:0"] = "10/min",
            ["Sluice:Layers:b:Methods"] = "Post",
            ["Sluice:Layers:b:Headline"] = "true",
        };

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings));

        Assert.Contains("Sluice:Layers:a:Scope 'Route' is unknown; use Global or Endpoint.", error.Problems);
        Assert.Contains("Sluice:Layers:b:Methods 'Post' is unknown; use All, Read or Write.", error.Problems);
        Assert.Contains("Sluice:Layers:a:Headline, Sluice:Layers:b:Headline are all true; at most one layer may be the headline.", error.Problems);
        Assert.Contains("Sluice:UnknownRetryAfterSeconds is -1; it must not be negative.", error.Problems);
        Assert.Contains("Sluice:ClientIp:ForwardedHeader is empty.", error.Problems);
        Assert.Equal(5, error.Problems.Count);
    }

    [Fact]
    public async Task ATokenBucketsBurst_AllowsThatManyAtOnce_ThenTheRatesPace()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Algorithm"] = "TokenBucket",
            ["Sluice:Layers:api-key:Rates:0"] = "1/s",
            ["Sluice:Layers:api-key:Burst"] = "5",
        };
        await using var app = await TestApp.StartAsync(settings);

        var burst = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            burst.Add(await app.GetAsync("/ping", apiKey: "k"));
        }

        app.Clock.Advance(TimeSpan.FromSeconds(1));
        var paced = await app.GetAsync("/ping", apiKey: "k");

        Assert.All(burst.Take(5), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal("5", burst[0].Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, burst[5].StatusCode);
        Assert.Equal("1", burst[5].Headers.GetValues("Retry-After").Single());
        Assert.Equal(HttpStatusCode.OK, paced.StatusCode);
    }

    [Fact]
    public async Task LayerNamesThatNoHeaderCanHold_StopStartup_OnlyWhenTheIetfHeadersAreOn()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:IetfHeaders"] = "true",
            ["Sluice:Layers:débit:Rates:0"] = "10/s",
            ["Sluice:Layers:tab\tname:Rates:0"] = "10/s",
            ["Sluice:Layers:plain:Rates:0"] = "10/s",
        };

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings));
        settings["Sluice:IetfHeaders"] = "false";
        await using var withoutThem = await TestApp.StartAsync(settings);

        // Kestrel refuses a response header outside printable ASCII: every request would have failed with 500.
        Assert.Contains("Sluice:Layers:débit: the name goes into the RateLimit-Policy and RateLimit headers (IetfHeaders is on), which hold printable ASCII only; rename the layer or set Sluice:IetfHeaders=false.", error.Problems);
        Assert.Contains(error.Problems, p => p.StartsWith("Sluice:Layers:tab\tname: the name goes into", StringComparison.Ordinal));
        Assert.Equal(2, error.Problems.Count);
        Assert.Equal(HttpStatusCode.OK, (await withoutThem.Client.GetAsync("/ping")).StatusCode);
    }

    [Fact]
    public async Task ABurstWhereNoneFits_StopsStartup_WithEveryProblemListed()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:fixed:Rates:0"] = "10/s",
            ["Sluice:Layers:fixed:Burst"] = "20",
            ["Sluice:Layers:two:Algorithm"] = "TokenBucket",
            ["Sluice:Layers:two:Rates:0"] = "10/s",
            ["Sluice:Layers:two:Rates:1"] = "100/min",
            ["Sluice:Layers:two:Burst"] = "20",
            ["Sluice:Layers:zero:Algorithm"] = "TokenBucket",
            ["Sluice:Layers:zero:Rates:0"] = "10/s",
            ["Sluice:Layers:zero:Burst"] = "0",
            ["Sluice:Layers:fast:Algorithm"] = "TokenBucket",
            ["Sluice:Layers:fast:Rates:0"] = "10000/s",
            ["Sluice:Layers:fast:Burst"] = "5",
        };

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings));

        Assert.Contains("Sluice:Layers:fixed:Burst is set, but only a TokenBucket layer has a burst; this one is FixedWindow.", error.Problems);
        Assert.Contains("Sluice:Layers:two:Burst needs exactly one rate (the refill pace); this layer has 2.", error.Problems);
        Assert.Contains("Sluice:Layers:zero:Burst is 0; it must be between 1 and 2147483647.", error.Problems);
        Assert.Contains("Sluice:Layers:fast:Burst: A burst of 5 at 10000/s empties in 500 µs, and a token bucket must span at least 1 ms: use a burst of at least 10.", error.Problems);
        Assert.Equal(4, error.Problems.Count);
    }

    [Fact]
    public async Task ValuesOfTheWrongType_AreListedWithEveryOtherProblem_InsteadOfStoppingAtTheFirst()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RejectionStatusCode"] = "four-two-nine",
            ["Sluice:ClientIp:GroupIPv6By64"] = "yes",
            ["Sluice:Layers:a:Key"] = "ApiKey",
            ["Sluice:Layers:a:Rates:0"] = "bad",
            ["Sluice:Layers:a:SlidingWindowSegments"] = "ten",
            ["Sluice:Layers:b:Rates:0"] = "1/s",
            ["Sluice:Layers:b:Shadow"] = "maybe",
            ["Sluice:Layers:b:Algorithm"] = "TokenBucket",
            ["Sluice:Layers:b:Burst"] = "lots",
        };

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings));

        Assert.Equal(
            [
                "Sluice:ClientIp:GroupIPv6By64 'yes' is not true or false.",
                "Sluice:Layers:a:SlidingWindowSegments 'ten' is not a whole number.",
                "Sluice:Layers:b:Burst 'lots' is not a whole number.",
                "Sluice:Layers:b:Shadow 'maybe' is not true or false.",
                "Sluice:RejectionStatusCode 'four-two-nine' is not a whole number.",
            ],
            error.Problems.Where(p => p.Contains(" is not ", StringComparison.Ordinal) && !p.Contains("rate", StringComparison.Ordinal)).Order());
        Assert.Contains(error.Problems, p => p.StartsWith("Sluice:Layers:a:Rates:0 'bad' is not a valid rate", StringComparison.Ordinal));
        Assert.Equal(6, error.Problems.Count);
    }

    [Fact]
    public async Task ASingleRateWhereAListGoes_IsReportedAsSuch()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:a:Rates"] = "100/min",
            ["Sluice:Layers:b:Rates"] = "2/s, 15/min",
        };

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings));

        Assert.Contains("Sluice:Layers:a:Rates '100/min' is a single value; write a list, such as [\"100/min\"].", error.Problems);
        Assert.Contains("Sluice:Layers:b:Rates '2/s, 15/min' is a single value; write a list, such as [\"2/s\", \"15/min\"].", error.Problems);
        Assert.Contains(error.Problems, p => p.StartsWith("Sluice:Layers:a:Rates is empty", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SluiceConfigurationValidate_ReportsWhatStartupWould_WithoutStartingAnything()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "often",
            ["Sluice:Layers:domain:Key"] = "Custom:domain",
            ["Sluice:Layers:domain:Rates:0"] = "2/s",
            ["Sluice:Layers:auth:Scop"] = "Endpoint",
            ["Sluice:RejectionStatusCode"] = "200",
        };
        var section = new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Sluice");
        Action<SluiceOptions> code = o => o.KeySelectors["domain"] = _ => "example.com";

        var withoutCode = SluiceConfiguration.Validate(section);
        var withCode = SluiceConfiguration.Validate(section, code);
        var startup = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings, configure: code));
        var valid = SluiceConfiguration.Validate(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "60/min",
        }).Build().GetSection("Sluice"));

        Assert.Equal(startup.Problems.Order(), withCode.Order());
        Assert.Equal(4, withCode.Count);
        Assert.Contains(withCode, p => p.StartsWith("Sluice:Layers:auth:Rates is empty", StringComparison.Ordinal));
        Assert.Contains(withoutCode, p => p.StartsWith("Sluice:Layers:domain:Key 'Custom:domain'", StringComparison.Ordinal));
        Assert.Empty(valid);
    }

    [Fact]
    public async Task SluiceConfigurationValidate_WithTheEndpoints_ListsAMissingLayerBesideABadRate_AsStartupDoes()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "often",
        };
        Action<WebApplication> map = app =>
        {
            app.MapGet("/x", () => "x").RequireRateLimit("auth");
            app.MapGet("/y", () => "y").RequireRateLimit("api-key", "reports");
        };
        var section = new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Sluice");

        var validated = SluiceConfiguration.Validate(section, null, MappedEndpoints(map));
        var startup = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings, map));

        Assert.Equal(startup.Problems.Order(), validated.Order());
        Assert.Equal(3, validated.Count);
        Assert.Contains(validated, p => p.StartsWith("Sluice:Layers:api-key:Rates:0 'often' is not a valid rate", StringComparison.Ordinal));
        Assert.Contains("Endpoint 'HTTP: GET /x' requires rate-limit layer 'auth', which is not configured under Sluice:Layers.", validated);
        Assert.Contains("Endpoint 'HTTP: GET /y' requires rate-limit layer 'reports', which is not configured under Sluice:Layers.", validated);
    }

    [Fact]
    public void SluiceConfigurationValidate_WithTheEndpoints_ReportsAPatternThatMatchesNone_AndNothingForAValidConfiguration()
    {
        var settings = ApiKeyAndAuth();
        var endpoints = MappedEndpoints(app => app.MapGet("/x", () => "x").RequireRateLimit("auth"));
        var valid = SluiceConfiguration.Validate(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Sluice"), null, endpoints);
        settings["Sluice:Layers:auth:Endpoints:0"] = "/login";

        var unmatched = SluiceConfiguration.Validate(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Sluice"), null, endpoints);

        Assert.Equal([], valid);
        Assert.Equal("Sluice:Layers:auth:Endpoints:0 '/login' matches no mapped endpoint.", Assert.Single(unmatched));
    }

    [Fact]
    public void SluiceConfigurationValidate_WithTheEndpoints_ChecksTheLayerCount_AgainstWhatTheStoreDecidesAtOnce()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(ApiKeyAndAuth()).Build().GetSection("Sluice");
        var endpoints = MappedEndpoints(app => app.MapGet("/x", () => "x").RequireRateLimit("auth"));

        var two = SluiceConfiguration.Validate(section, null, endpoints, maxLayersPerDecision: 2);
        var one = SluiceConfiguration.Validate(section, null, endpoints, maxLayersPerDecision: 1);

        Assert.Empty(two);
        Assert.Equal("Endpoint 'HTTP: GET /x' applies 2 layers; the store decides at most 1 layers per request.", Assert.Single(one));
    }

    /// <summary>A valid configuration: the global api-key layer and the endpoint layer auth.</summary>
    private static Dictionary<string, string?> ApiKeyAndAuth() => new()
    {
        ["Sluice:Layers:api-key:Key"] = "ApiKey",
        ["Sluice:Layers:api-key:Rates:0"] = "60/min",
        ["Sluice:Layers:auth:Key"] = "Ip",
        ["Sluice:Layers:auth:Rates:0"] = "3/15min",
        ["Sluice:Layers:auth:Scope"] = "Endpoint",
    };

    private static List<Microsoft.AspNetCore.Http.Endpoint> MappedEndpoints(Action<WebApplication> map)
    {
        var app = WebApplication.CreateSlimBuilder().Build();
        map(app);
        return [.. ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)app).DataSources.SelectMany(s => s.Endpoints)];
    }

    [Fact]
    public async Task KeysThatNameNoSetting_AreReported_WithTheClosestSetting()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Enable"] = "false",
            ["Sluice:Nonsense"] = "1",
            ["Sluice:OnRejected"] = "x",
            ["Sluice:Redis:Configuration"] = "127.0.0.1:6379",
            ["Sluice:ClientIp:TrustedProxy:0"] = "10.0.0.0/8",
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "60/min",
            ["Sluice:Layers:auth:Rates:0"] = "3/15min",
            ["Sluice:Layers:auth:Scop"] = "Endpoint",
            ["Sluice:ApiKey"] = "X-Key",
        };

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings));

        Assert.Equal(
            [
                "Sluice:ApiKey 'X-Key' is a single value; ApiKey is a section of settings.",
                "Sluice:ClientIp:TrustedProxy is not a setting; did you mean TrustedProxies?",
                "Sluice:Enable is not a setting; did you mean Enabled?",
                "Sluice:Layers:auth:Scop is not a setting; did you mean Scope?",
                "Sluice:OnRejected is set in code only (a delegate); configuration cannot set it.",
            ],
            error.Problems.Where(p => !p.StartsWith("Sluice:Nonsense", StringComparison.Ordinal)).Order());
        Assert.StartsWith("Sluice:Nonsense is not a setting; the settings here are Enabled, ", Assert.Single(error.Problems, p => p.StartsWith("Sluice:Nonsense", StringComparison.Ordinal)));
        Assert.Equal(6, error.Problems.Count);
    }

    [Fact]
    public async Task AReloadWithAValueOfTheWrongType_IsLoggedAndIgnored()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "1/min",
        };
        await using var app = await TestApp.StartAsync(settings);

        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Shadow"] = "perhaps" });
        await app.GetAsync("/ping", apiKey: "k");
        var second = await app.GetAsync("/ping", apiKey: "k");

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains(app.Logs.Entries, e => e.Id.Id == 3 && e.Message.Contains("Sluice:Layers:api-key:Shadow 'perhaps' is not true or false.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReloadThatChangesTheStore_WarnsThatItNeedsARestart_AndAppliesTheRest()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "3/min",
        };
        await using var app = await TestApp.StartAsync(settings);

        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Store"] = "Redis", ["Sluice:Layers:api-key:Rates:0"] = "5/min" });
        var response = await app.GetAsync("/ping", apiKey: "k");
        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Store"] = "memory", ["Sluice:Layers:api-key:Rates:0"] = "6/min" });

        Assert.Equal("5", response.Headers.GetValues("X-RateLimit-Limit").Single());
        var warning = Assert.Single(app.Logs.Entries, e => e.Id.Id == 9);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("Sluice:Store changed from 'Memory' to 'Redis', but the store is chosen at startup: 'Memory' stays in use until the application restarts. The rest of the configuration was applied.", warning.Message);
    }

    [Theory]
    [InlineData(33, 0)]
    [InlineData(20, 13)]
    public async Task MoreLayersOnARequestThanTheStoreDecides_StopsStartup(int global, int onTheEndpoint)
    {
        var settings = new Dictionary<string, string?> { ["Sluice:RateLimitHeaders"] = "false" };
        for (var i = 0; i < global + onTheEndpoint; i++)
        {
            settings[$"Sluice:Layers:l{i:D2}:Key"] = "Ip";
            settings[$"Sluice:Layers:l{i:D2}:Rates:0"] = "100/min";
            settings[$"Sluice:Layers:l{i:D2}:Scope"] = i < global ? "Global" : "Endpoint";
        }

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(settings, app =>
            app.MapGet("/x", () => "x").RequireRateLimit([.. Enumerable.Range(global, onTheEndpoint).Select(i => $"l{i:D2}")])));

        Assert.Contains(global > 32 ? "Sluice:Layers has 33 global layers; the store decides at most 32 layers per request." : "applies 33 layers; the store decides at most 32 layers per request.", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task AnEndpointLayerThatNoEndpointApplies_IsLoggedAsAWarning()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:auth:Key"] = "Ip",
            ["Sluice:Layers:auth:Scope"] = "Endpoint",
            ["Sluice:Layers:auth:Rates:0"] = "3/15min",
            ["Sluice:Layers:forgotten:Key"] = "Ip",
            ["Sluice:Layers:forgotten:Scope"] = "Endpoint",
            ["Sluice:Layers:forgotten:Rates:0"] = "3/15min",
        };
        await using var app = await TestApp.StartAsync(settings, a => a.MapPost("/login", () => "ok").RequireRateLimit("auth"));

        var warnings = app.Logs.Entries.Where(e => e.Id.Id == 7 && e.Message.StartsWith("Sluice:Layers:", StringComparison.Ordinal)).Select(e => e.Message).ToList();

        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, app.Logs.Entries.First(e => e.Id.Id == 7 && e.Message.StartsWith("Sluice:Layers:", StringComparison.Ordinal)).Level);
        Assert.StartsWith("Sluice:Layers:forgotten is an endpoint layer that applies to no mapped endpoint", Assert.Single(warnings));
    }

    [Fact]
    public async Task OptionsBoundFromAnotherSection_AreNamedByThatSectionsPath_InEveryProblem()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Api:RateLimiting:RejectionStatusCode"] = "200",
            ["Api:RateLimiting:Layers:auth:Key"] = "Ip",
            ["Api:RateLimiting:Layers:auth:Rates:0"] = "lots",
            ["Api:RateLimiting:Layers:auth:Scop"] = "Endpoint",
            ["Api:RateLimiting:RateLimitHeaders"] = "false",
        });
        builder.Services.AddSluice(builder.Configuration.GetSection("Api:RateLimiting"));
        await using var app = builder.Build();

        var error = Assert.Throws<SluiceConfigurationException>(() => app.UseSluice().Build());

        Assert.Equal(3, error.Problems.Count);
        Assert.All(error.Problems, p => Assert.StartsWith("Api:RateLimiting:", p));
        Assert.DoesNotContain(error.Problems, p => p.Contains("Sluice:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UseSluiceWithoutAddSluice_FailsWithAMessageSayingWhatToCall()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.UseSluice());

        Assert.Contains("call builder.Services.AddSluice(...) before app.UseSluice()", error.Message);
    }

    [Fact]
    public async Task AnEndpointNamingAMissingLayer_StopsStartup()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "60/min",
        };

        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() =>
            TestApp.StartAsync(settings, app => app.MapGet("/x", () => "x").RequireRateLimit("auth")));

        Assert.Contains("requires rate-limit layer 'auth'", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task ChangingTheConfiguration_AppliesNewRatesWithoutRestart_AndKeepsUsage()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "3/min",
        };
        await using var app = await TestApp.StartAsync(settings);
        for (var i = 0; i < 3; i++)
        {
            await app.GetAsync("/ping", apiKey: "k");
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await app.GetAsync("/ping", apiKey: "k")).StatusCode);
        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Rates:0"] = "5/min" });
        var afterReload = await app.GetAsync("/ping", apiKey: "k");

        Assert.Equal(HttpStatusCode.OK, afterReload.StatusCode);
        Assert.Equal("5", afterReload.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("1", afterReload.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task AChangeEventThatChangesNothing_IsNotAppliedAgain_WhileARealChangeIs()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "3/min",
        };
        await using var app = await TestApp.StartAsync(settings);
        int Reloads() => app.Logs.Entries.Count(e => e.Id.Id == 4 && e.Message.StartsWith("Sluice configuration reloaded", StringComparison.Ordinal));

        // A file saved once often raises two change events.
        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Rates:0"] = "5/min" });
        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Rates:0"] = "5/min" });
        var afterTwo = Reloads();
        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Rates:0"] = "5/min", ["Sluice:Layers:api-key:Shadow"] = "true" });
        var response = await app.GetAsync("/ping", apiKey: "k");

        Assert.Equal(1, afterTwo);
        Assert.Equal(2, Reloads());
        Assert.Equal("5", response.Headers.GetValues("X-RateLimit-Limit").Single());
    }

    [Fact]
    public async Task AReloadThatChangesAPeriod_KeepsUsage_OnTheInMemoryStore()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "100/h",
        };
        await using var app = await TestApp.StartAsync(settings);
        for (var i = 0; i < 4; i++)
        {
            await app.GetAsync("/ping", apiKey: "k");
        }

        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Rates:0"] = "5/min" });
        var afterReload = await app.GetAsync("/ping", apiKey: "k");
        var over = await app.GetAsync("/ping", apiKey: "k");

        // The hour's 4 now count in this minute: the fifth passes, the sixth waits for the minute's end.
        Assert.Equal(HttpStatusCode.OK, afterReload.StatusCode);
        Assert.Equal("0", afterReload.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
    }

    [Fact]
    public async Task ChangingALayersAlgorithm_StartsItsCountAfresh_WhileOtherLayersKeepUsage()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "1/min",
            ["Sluice:Layers:global-ip:Key"] = "Ip",
            ["Sluice:Layers:global-ip:Rates:0"] = "2/min",
        };
        await using var app = await TestApp.StartAsync(settings);
        await app.GetAsync("/ping", apiKey: "k");
        var denied = await app.GetAsync("/ping", apiKey: "k");

        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Algorithm"] = "TokenBucket" });
        var fresh = await app.GetAsync("/ping", apiKey: "k");
        var ipUsedUp = await app.GetAsync("/ping", apiKey: "other");

        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, ipUsedUp.StatusCode);
        Assert.Contains("\"layer\":\"global-ip\"", await ipUsedUp.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnInvalidChange_IsLoggedAndIgnored_ThePreviousConfigurationStays()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "3/min",
        };
        await using var app = await TestApp.StartAsync(settings);

        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Rates:0"] = "lots" });
        var response = await app.GetAsync("/ping", apiKey: "k");

        Assert.Equal("3", response.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Contains(app.Logs.Entries, e => e.Id.Id == 3 && e.Message.Contains("'lots'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LayersAndCallbacksInCode_Work()
    {
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?>(),
            a => a.MapGet("/ping", () => "pong"),
            options =>
            {
                options.RateLimitHeaders = false;
                options.KeySelectors["tenant"] = context => context.Request.Query["tenant"];
                options.AddLayer("tenant", layer =>
                {
                    layer.Key = "Custom:tenant";
                    layer.Rates = ["1/min"];
                });
            });

        var first = await app.GetAsync("/ping?tenant=a");
        var second = await app.GetAsync("/ping?tenant=a");
        var other = await app.GetAsync("/ping?tenant=b");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK], new[] { first, second, other }.Select(r => r.StatusCode));
    }
}
