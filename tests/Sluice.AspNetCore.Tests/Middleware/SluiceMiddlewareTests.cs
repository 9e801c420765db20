using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests.Middleware;

public sealed class SluiceMiddlewareTests
{
    private static Dictionary<string, string?> CertDirectory(string ip = "100/min", string key = "60/min", string auth = "3/15min") => new()
    {
        ["Sluice:Layers:global-ip:Key"] = "Ip",
        ["Sluice:Layers:global-ip:Rates:0"] = ip,
        ["Sluice:Layers:api-key:Key"] = "ApiKey",
        ["Sluice:Layers:api-key:Rates:0"] = key,
        ["Sluice:Layers:auth:Key"] = "Ip",
        ["Sluice:Layers:auth:Scope"] = "Endpoint",
        ["Sluice:Layers:auth:Rates:0"] = auth,
    };

    private static void MapCertDirectory(WebApplication app)
    {
        app.MapGet("/api/me", () => "me");
        app.MapPost("/api/auth/resend", () => Results.Accepted()).RequireRateLimit("auth");
        app.MapGet("/healthz", () => "ok").DisableRateLimit();
    }

    [Fact]
    public async Task EveryApiKeyRequest_CarriesTheHeadlineHeaders()
    {
        await using var app = await TestApp.StartAsync(CertDirectory(), MapCertDirectory);
        app.Clock.Advance(TimeSpan.FromSeconds(12.5));

        var first = await app.GetAsync("/api/me", apiKey: "k1");
        var second = await app.GetAsync("/api/me", apiKey: "k1");
        var anonymous = await app.GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("60", first.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("59", first.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal("58", second.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(ManualTimeProvider.DefaultStart.AddMinutes(1).ToUnixTimeSeconds().ToString(), second.Headers.GetValues("X-RateLimit-Reset").Single());
        Assert.False(anonymous.Headers.Contains("X-RateLimit-Limit"));
    }

    [Fact]
    public async Task LayersAreEvaluatedIndependently_ExceedingAnyOneGives429()
    {
        await using var app = await TestApp.StartAsync(CertDirectory(ip: "5/min", key: "3/min"), MapCertDirectory);

        var byKey = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            byKey.Add((await app.GetAsync("/api/me", apiKey: "k1", remote: $"198.51.100.{i}")).StatusCode);
        }

        var byIp = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            byIp.Add((await app.GetAsync("/api/me", apiKey: $"other-{i}", remote: "203.0.113.9")).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], byKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, byIp[5]);
        Assert.All(byIp.Take(5), s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task Denial_Is429ProblemJson_WithCodeDetailRetryAfterAndLayer()
    {
        await using var app = await TestApp.StartAsync(CertDirectory(key: "1/min"), MapCertDirectory);
        app.Clock.Advance(TimeSpan.FromSeconds(59.2));
        await app.GetAsync("/api/me", apiKey: "k1");

        var denied = await app.GetAsync("/api/me", apiKey: "k1");
        using var body = JsonDocument.Parse(await denied.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        Assert.Equal("application/problem+json", denied.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1", denied.Headers.GetValues("Retry-After").Single());
        Assert.Equal("0", denied.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal("1", denied.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("RATE_LIMITED", body.RootElement.GetProperty("code").GetString());
        Assert.Equal("Request was throttled. Expected available in 1 second.", body.RootElement.GetProperty("detail").GetString());
        Assert.Equal(1, body.RootElement.GetProperty("retry_after").GetInt32());
        Assert.Equal("api-key", body.RootElement.GetProperty("layer").GetString());
        Assert.Equal(429, body.RootElement.GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData(0.25, "15")]
    [InlineData(14.5, "1")]
    [InlineData(14.999, "1")]
    [InlineData(13.0, "2")]
    [InlineData(0.0, "15")]
    public async Task RetryAfter_IsWholeSecondsRoundedUp(double secondsIntoWindow, string expected)
    {
        await using var app = await TestApp.StartAsync(CertDirectory(key: "1/15s"), MapCertDirectory);
        app.Clock.Advance(TimeSpan.FromSeconds(secondsIntoWindow));
        await app.GetAsync("/api/me", apiKey: "k1");

        var denied = await app.GetAsync("/api/me", apiKey: "k1");

        Assert.Equal(expected, denied.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task ADeniedRequest_ChargesNoLayer()
    {
        await using var app = await TestApp.StartAsync(CertDirectory(ip: "10/min", auth: "1/15min"), MapCertDirectory);
        await app.SendAsync(HttpMethod.Post, "/api/auth/resend");

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, (await app.SendAsync(HttpMethod.Post, "/api/auth/resend")).StatusCode);
        }

        var usage = await app.App.Services.GetRequiredService<SluiceLimits>().GetUsageAsync("global-ip", "192.0.2.1");
        Assert.Equal(9, usage[0].Remaining);
    }

    [Fact]
    public async Task EndpointLayers_ApplyOnlyWhereRequired()
    {
        await using var app = await TestApp.StartAsync(CertDirectory(auth: "1/15min"), MapCertDirectory);

        var auth = new[] { await app.SendAsync(HttpMethod.Post, "/api/auth/resend"), await app.SendAsync(HttpMethod.Post, "/api/auth/resend") };
        var me = await app.GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.Accepted, auth[0].StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, auth[1].StatusCode);
        Assert.Equal("auth", JsonDocument.Parse(await auth[1].Content.ReadAsStringAsync()).RootElement.GetProperty("layer").GetString());
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task DisabledEndpoint_IsExemptFromEveryLayer_AndGetsNoHeaders()
    {
        await using var app = await TestApp.StartAsync(CertDirectory(ip: "2/min", key: "1/min"), MapCertDirectory);

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 5; i++)
        {
            responses.Add(await app.GetAsync("/healthz", apiKey: "k1"));
        }

        var me = await app.GetAsync("/api/me", apiKey: "k1");

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(responses, r => Assert.False(r.Headers.Contains("X-RateLimit-Limit")));
        Assert.Equal("0", me.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task SluiceDisabled_RemovesEnforcementAndHeaders()
    {
        var settings = CertDirectory(key: "1/min");
        settings["Sluice:Enabled"] = "false";
        await using var app = await TestApp.StartAsync(settings, MapCertDirectory);

        var first = await app.GetAsync("/api/me", apiKey: "k1");
        var second = await app.GetAsync("/api/me", apiKey: "k1");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False(first.Headers.Contains("X-RateLimit-Limit"));
    }

    [Fact]
    public async Task ReadAndWriteLayers_CountTheirOwnMethodsOnly()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:reads:Key"] = "Ip",
            ["Sluice:Layers:reads:Methods"] = "Read",
            ["Sluice:Layers:reads:Rates:0"] = "2/min",
            ["Sluice:Layers:writes:Key"] = "Ip",
            ["Sluice:Layers:writes:Methods"] = "Write",
            ["Sluice:Layers:writes:Rates:0"] = "1/min",
        };
        await using var app = await TestApp.StartAsync(settings, a =>
        {
            a.MapGet("/r", () => "r");
            a.MapPost("/r", () => "w");
        });

        var writes = new[] { await app.SendAsync(HttpMethod.Post, "/r"), await app.SendAsync(HttpMethod.Post, "/r") };
        var reads = new[] { await app.GetAsync("/r"), await app.GetAsync("/r"), await app.GetAsync("/r") };

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], writes.Select(r => r.StatusCode));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], reads.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task RouteValueKey_LimitsPerDomain_AndCostLetsABulkRequestCountOnce()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:per-domain:Key"] = "Route:domain",
            ["Sluice:Layers:per-domain:Scope"] = "Endpoint",
            ["Sluice:Layers:per-domain:Algorithm"] = "Sliding",
            ["Sluice:Layers:per-domain:Rates:0"] = "2/s",
        };
        await using var app = await TestApp.StartAsync(settings, a =>
        {
            var domain = a.MapGroup("/domains/{domain}").RequireRateLimit("per-domain");
            domain.MapPost("/rrsets", () => "bulk").WithRateLimitCost(_ => 1);
            domain.MapPost("/heavy", () => "heavy").WithRateLimitCost(_ => 2);
        });

        var a1 = await app.SendAsync(HttpMethod.Post, "/domains/a.example/rrsets");
        var a2 = await app.SendAsync(HttpMethod.Post, "/domains/A.EXAMPLE/rrsets");
        var a3 = await app.SendAsync(HttpMethod.Post, "/domains/a.example/rrsets");
        var b = await app.SendAsync(HttpMethod.Post, "/domains/b.example/heavy");
        var bAgain = await app.SendAsync(HttpMethod.Post, "/domains/b.example/rrsets");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], new[] { a1, a2, a3 }.Select(r => r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, bAgain.StatusCode);
    }

    [Fact]
    public async Task RejectionCallback_OfARouteGroup_ReplacesTheBody()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:dns:Key"] = "Ip",
            ["Sluice:Layers:dns:Rates:0"] = "1/min",
        };
        await using var app = await TestApp.StartAsync(settings, a =>
        {
            a.MapGroup("/api/v1").OnRateLimitRejected(async (rejected, token) =>
            {
                rejected.HttpContext.Response.ContentType = "application/json";
                await rejected.HttpContext.Response.WriteAsync("{\"detail\": \"" + rejected.Detail + "\"}", token);
            }).MapGet("/domains/", () => "[]");
            a.MapGet("/other", () => "other");
        });
        app.Clock.Advance(TimeSpan.FromSeconds(58.5));
        await app.GetAsync("/api/v1/domains/");

        var dns = await app.GetAsync("/api/v1/domains/");
        var other = await app.GetAsync("/other");

        Assert.Equal("{\"detail\": \"Request was throttled. Expected available in 2 seconds.\"}", await dns.Content.ReadAsStringAsync());
        Assert.Equal("2", dns.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("sk_live_0123456789abcdef")]
    [InlineData(null)] // a key over 256 characters, which reaches the store as its SHA-256: the same fingerprint
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")] // a key that only looks like a digest
    public async Task AShadowDenialsLog_ShowsAnApiKeyOnlyAsAFingerprint_AndAnAddressAsItIs(string? givenSecret)
    {
        var secret = givenSecret ?? new string('s', 1_000);
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:trial:Key"] = "ApiKey",
            ["Sluice:Layers:trial:Shadow"] = "true",
            ["Sluice:Layers:trial:Rates:0"] = "1/min",
            ["Sluice:Layers:trial:Headline"] = "true",
            ["Sluice:Layers:ip-trial:Key"] = "Ip",
            ["Sluice:Layers:ip-trial:Shadow"] = "true",
            ["Sluice:Layers:ip-trial:Rates:0"] = "1/min",
        };
        await using var app = await TestApp.StartAsync(settings);

        await app.GetAsync("/ping", apiKey: secret, remote: "198.51.100.7");
        await app.GetAsync("/ping", apiKey: secret, remote: "198.51.100.7");
        var logged = app.Logs.Entries.Where(e => e.Id.Id == 1 && e.Message.StartsWith("Shadow layer", StringComparison.Ordinal)).Select(e => e.Message).ToList();
        var fingerprint = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)))[..12];

        Assert.Equal(2, logged.Count);
        Assert.DoesNotContain(logged, m => m.Contains(secret[..19], StringComparison.Ordinal));
        Assert.Contains(logged, m => m.Contains("'trial'", StringComparison.Ordinal) && m.Contains($"key '{fingerprint}'", StringComparison.Ordinal));
        Assert.Contains(logged, m => m.Contains("'ip-trial'", StringComparison.Ordinal) && m.Contains("key '198.51.100.7'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShadowLayer_LetsTheRequestPass_AndLogsAndCountsTheWouldBeDenial()
    {
        var settings = CertDirectory();
        settings["Sluice:Layers:trial:Key"] = "ApiKey";
        settings["Sluice:Layers:trial:Shadow"] = "true";
        settings["Sluice:Layers:trial:Rates:0"] = "1/min";
        settings["Sluice:Layers:api-key:Headline"] = "true";
        using var meter = new SluiceMeterListener();
        await using var app = await TestApp.StartAsync(settings, MapCertDirectory);

        var first = await app.GetAsync("/api/me", apiKey: "k1");
        var second = await app.GetAsync("/api/me", apiKey: "k1");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains(app.Logs.Entries, e => e.Id.Id == 1 && e.Message.Contains("'trial'", StringComparison.Ordinal));
        Assert.Contains("sluice.decisions:trial,shadow_denied", meter.Of(app));
        Assert.Contains("sluice.decisions:trial,allowed", meter.Of(app));
        Assert.Contains("sluice.decisions:api-key,allowed", meter.Of(app));
    }

    [Fact]
    public async Task DeniedRequests_AreCountedByLayerAndOutcome()
    {
        using var meter = new SluiceMeterListener();
        await using var app = await TestApp.StartAsync(CertDirectory(key: "1/min"), MapCertDirectory);

        await app.GetAsync("/api/me", apiKey: "k-metrics");
        await app.GetAsync("/api/me", apiKey: "k-metrics");

        Assert.Contains("sluice.decisions:api-key,denied", meter.Of(app));
        Assert.Contains("sluice.store.duration", meter.Of(app));
    }

    [Fact]
    public async Task ConcurrencyLayer_ReleasesItsPermit_WhenTheHandlerThrows()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:serial:Key"] = "Global",
            ["Sluice:Layers:serial:Algorithm"] = "Concurrency",
            ["Sluice:Layers:serial:Rates:0"] = "1/min",
        };
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await TestApp.StartAsync(settings, a =>
        {
            a.MapGet("/slow", async () => { entered.TrySetResult(); await gate.Task; return "done"; });
            a.MapGet("/boom", string () => throw new InvalidOperationException("boom"));
        });

        var slow = app.GetAsync("/slow");
        await entered.Task;
        var whileBusy = await app.GetAsync("/slow");
        gate.SetResult();
        await slow;
        await Assert.ThrowsAnyAsync<Exception>(() => app.GetAsync("/boom"));
        var afterThrow = await app.GetAsync("/slow");

        Assert.Equal(HttpStatusCode.TooManyRequests, whileBusy.StatusCode);
        Assert.Equal("1", whileBusy.Headers.GetValues("Retry-After").Single());
        Assert.Equal(HttpStatusCode.OK, afterThrow.StatusCode);
    }

    [Theory]
    [InlineData("FixedWindow")]
    [InlineData("Concurrency")]
    public async Task ACostDelegateThatThrows_PropagatesItsException_AndChargesNothing(string algorithm)
    {
        // A fixed window takes the synchronous path, a concurrency layer the asynchronous one: the same rule on both.
        await using var app = await TestApp.StartAsync(OneGlobalLayer(algorithm), a =>
        {
            a.MapGet("/boom", () => "boom").WithRateLimitCost(_ => throw new FormatException("the body is not a list"));
            a.MapGet("/ok", () => "ok");
        });

        var thrown = await Assert.ThrowsAsync<FormatException>(() => app.GetAsync("/boom"));
        var after = await app.GetAsync("/ok");

        Assert.Equal("the body is not a list", thrown.Message);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains("store", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("FixedWindow")]
    [InlineData("Concurrency")]
    public async Task ANegativeCost_IsTheApplicationsError_NamingTheEndpoint(string algorithm)
    {
        await using var app = await TestApp.StartAsync(OneGlobalLayer(algorithm), a => a.MapGet("/refund", () => "refund").WithRateLimitCost(_ => -1));

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => app.GetAsync("/refund"));

        Assert.Equal("The rate-limit cost of GET /refund was -1; a cost must not be negative.", thrown.Message);
    }

    /// <summary>One global layer of 1/min on a constant key, without headers.</summary>
    private static Dictionary<string, string?> OneGlobalLayer(string algorithm) => new()
    {
        ["Sluice:RateLimitHeaders"] = "false",
        ["Sluice:Layers:one:Key"] = "Global",
        ["Sluice:Layers:one:Algorithm"] = algorithm,
        ["Sluice:Layers:one:Rates:0"] = "1/min",
    };

    [Fact]
    public async Task IetfHeaders_WhenEnabled_DescribeEveryApplicablePolicy()
    {
        var settings = CertDirectory();
        settings["Sluice:IetfHeaders"] = "true";
        settings["Sluice:Layers:api-key:Rates:1"] = "5/s";
        await using var app = await TestApp.StartAsync(settings, MapCertDirectory);
        app.Clock.Advance(TimeSpan.FromSeconds(43));

        var response = await app.GetAsync("/api/me", apiKey: "k1");

        // Configuration binds layers in name order: api-key before global-ip.
        Assert.Equal("\"api-key/min\";q=60;w=60, \"api-key/s\";q=5;w=1, \"global-ip\";q=100;w=60", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal("\"api-key/min\";r=59;t=17, \"api-key/s\";r=4;t=1, \"global-ip\";r=99;t=17", response.Headers.GetValues("RateLimit").Single());
        Assert.Equal("4", response.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task IetfHeaders_EscapeQuotesAndBackslashesInLayerNames()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:IetfHeaders"] = "true",
            ["Sluice:Layers:say \"hi\" \\o/:Key"] = "Global",
            ["Sluice:Layers:say \"hi\" \\o/:Rates:0"] = "10/min",
        };
        await using var app = await TestApp.StartAsync(settings);

        var response = await app.Client.GetAsync("/ping");

        Assert.Equal("\"say \\\"hi\\\" \\\\o/\";q=10;w=60", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("\"say \\\"hi\\\" \\\\o/\";r=9;t=", response.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IetfHeaders_CountSecondsToResetOnTheStoresClock_NotThisMachines()
    {
        // A shared store keeps its own time (Redis's TIME): here it is 30 min 45 s ahead of the app's clock.
        var storeClock = new ManualTimeProvider(ManualTimeProvider.DefaultStart.AddMinutes(30).AddSeconds(45));
        var settings = CertDirectory();
        settings["Sluice:IetfHeaders"] = "true";
        await using var app = await TestApp.StartAsync(settings, MapCertDirectory, services: s =>
            s.AddKeyedSingleton<RateLimitStore>("Memory", new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = storeClock })));

        var response = await app.GetAsync("/api/me", apiKey: "k1");

        Assert.Equal("\"api-key\";r=59;t=15, \"global-ip\";r=99;t=15", response.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task IetfHeaders_LongerThanTheStackBuffer_AreStillWrittenWhole()
    {
        // Two layers of eight rates with long names: 16 limit items, well past the 512-character stack buffer.
        var settings = new Dictionary<string, string?> { ["Sluice:IetfHeaders"] = "true" };
        foreach (var name in new[] { "per-client-address-with-a-deliberately-long-layer-name", "per-api-key-with-a-deliberately-long-layer-name" })
        {
            settings[$"Sluice:Layers:{name}:Key"] = name.StartsWith("per-client", StringComparison.Ordinal) ? "Ip" : "ApiKey";
            settings[$"Sluice:Layers:{name}:Headline"] = name.StartsWith("per-api", StringComparison.Ordinal) ? "true" : "false";
            for (var r = 0; r < 8; r++)
            {
                settings[$"Sluice:Layers:{name}:Rates:{r}"] = $"{1000 + r}/{r + 1}min";
            }
        }

        await using var app = await TestApp.StartAsync(settings, a => a.MapGet("/api/me", () => "me"));
        var response = await app.GetAsync("/api/me", apiKey: "k1");

        var limit = response.Headers.GetValues("RateLimit").Single();
        var items = limit.Split(", ");
        Assert.True(limit.Length > 512, $"only {limit.Length} characters: the test no longer exercises the long path");
        Assert.Equal(16, items.Length);
        Assert.Equal("\"per-api-key-with-a-deliberately-long-layer-name/min\";r=999;t=60", items[0]);
        Assert.All(items, item => Assert.Matches("^\"per-[a-z-]+/[0-9]*min\";r=[0-9]+;t=[0-9]+$", item));
        Assert.Equal(16, response.Headers.GetValues("RateLimit-Policy").Single().Split(", ").Length);
    }

    [Fact]
    public async Task IetfPolicy_FollowsEachEndpointsLayers_AndAnOverride_RequestAfterRequest()
    {
        var settings = CertDirectory();
        settings["Sluice:IetfHeaders"] = "true";
        await using var app = await TestApp.StartAsync(settings, MapCertDirectory);
        const string global = "\"api-key\";q=60;w=60, \"global-ip\";q=100;w=60";

        var me = await app.GetAsync("/api/me", apiKey: "k1");
        var resend = await app.SendAsync(HttpMethod.Post, "/api/auth/resend", apiKey: "k1");
        var meAgain = await app.GetAsync("/api/me", apiKey: "k1");
        await app.App.Services.GetRequiredService<SluiceLimits>().SetOverrideAsync("api-key", "k1", ["600/min"]);
        var raised = await app.GetAsync("/api/me", apiKey: "k1");
        var other = await app.GetAsync("/api/me", apiKey: "k2");

        Assert.Equal(global, me.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal(global + ", \"auth\";q=3;w=900", resend.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal(global, meAgain.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal("\"api-key\";q=600;w=60, \"global-ip\";q=100;w=60", raised.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal(global, other.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("\"api-key\";r=596;t=", raised.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task AStoreFailure_LetsTheRequestThrough_NeverA500()
    {
        var settings = CertDirectory();
        settings["Sluice:Store"] = "Failing";
        await using var app = await TestApp.StartAsync(settings, MapCertDirectory, services: s => s.AddKeyedSingleton<RateLimitStore>("Failing", new TestFailingStore()));

        var response = await app.GetAsync("/api/me", apiKey: "k1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(app.Logs.Entries, e => e.Id.Id == 5);
    }

    [Fact]
    public async Task AStoreThatFailsClosed_Answers503WithRetryAfter()
    {
        var settings = CertDirectory();
        settings["Sluice:Store"] = "Closed";
        var store = new TestFailingStore(new RateLimitStoreUnavailableException("down", TimeSpan.FromSeconds(2.5)));
        await using var app = await TestApp.StartAsync(settings, MapCertDirectory, services: s => s.AddKeyedSingleton<RateLimitStore>("Closed", store));

        var response = await app.GetAsync("/api/me", apiKey: "k1");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("Retry-After").Single());

        // Logged as a refusal (event 8), not as event 5's "the request was let through".
        Assert.Contains(app.Logs.Entries, e => e.Id.Id == 8 && e.Message.EndsWith("refused with 503, retry after 3 s.", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Id.Id == 5 && e.Message.StartsWith("The rate-limit store", StringComparison.Ordinal));
    }
}
