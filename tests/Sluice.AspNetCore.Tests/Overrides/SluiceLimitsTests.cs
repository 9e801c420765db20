using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests.Overrides;

public sealed class SluiceLimitsTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Sluice:Layers:api-key:Key"] = "ApiKey",
        ["Sluice:Layers:api-key:Rates:0"] = "60/min",
    };

    [Fact]
    public async Task AnOverride_RaisesOneKeysLimitAtRunTime_KeepingItsUsage_AndTheHeadersShowIt()
    {
        await using var app = await TestApp.StartAsync(Settings);
        var limits = app.App.Services.GetRequiredService<SluiceLimits>();
        for (var i = 0; i < 60; i++)
        {
            await app.GetAsync("/ping", apiKey: "vip");
        }

        await limits.SetOverrideAsync("api-key", "vip", ["600/min"]);
        var vip = await app.GetAsync("/ping", apiKey: "vip");
        var other = await app.GetAsync("/ping", apiKey: "other");
        await limits.RemoveOverrideAsync("api-key", "vip");
        var restored = await app.GetAsync("/ping", apiKey: "vip");

        Assert.Equal(HttpStatusCode.OK, vip.StatusCode);
        Assert.Equal("600", vip.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("539", vip.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal("60", other.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, restored.StatusCode);
    }

    [Fact]
    public async Task IsTrustedProxy_FollowsTheTrustedProxiesInForce_AndARefusedReloadLeavesThemAsTheyWere()
    {
        var settings = new Dictionary<string, string?>(Settings) { ["Sluice:ClientIp:TrustedProxies:0"] = "10.0.0.0/8" };
        await using var app = await TestApp.StartAsync(settings);
        var limits = app.App.Services.GetRequiredService<SluiceLimits>();
        var proxy = IPAddress.Parse("10.1.2.3");
        var mapped = IPAddress.Parse("::ffff:10.1.2.3");
        var client = IPAddress.Parse("192.0.2.1");
        var before = (limits.IsTrustedProxy(proxy), limits.IsTrustedProxy(mapped), limits.IsTrustedProxy(client));

        // A reload with a bad entry is refused as a whole; a valid one replaces the list.
        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:ClientIp:TrustedProxies:0"] = "192.0.2.1", ["Sluice:ClientIp:TrustedProxies:1"] = "office" });
        var refused = (limits.IsTrustedProxy(proxy), limits.IsTrustedProxy(client));
        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:ClientIp:TrustedProxies:1"] = "192.0.2.0/24" });
        var reloaded = (limits.IsTrustedProxy(proxy), limits.IsTrustedProxy(client));

        Assert.Equal((true, true, false), before);
        Assert.Equal((true, false), refused);
        Assert.Equal((false, true), reloaded);
    }

    [Fact]
    public async Task IsTrustedProxy_IsFalse_WhenNoProxyIsConfigured()
    {
        await using var app = await TestApp.StartAsync(Settings);

        Assert.False(app.App.Services.GetRequiredService<SluiceLimits>().IsTrustedProxy(IPAddress.Loopback));
    }

    [Fact]
    public async Task OverridesRestoredAfterMappingButBeforeTheAppStarts_Apply_AndLeaveTheEndpointChecksToStartup()
    {
        // The reference server restores its stored overrides there: the endpoints mapped on a WebApplication are not
        // yet visible through EndpointDataSource, so checking them then warned that every endpoint layer was unused.
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Sluice:Layers:auth:Key"] = "Ip",
            ["Sluice:Layers:auth:Scope"] = "Endpoint",
            ["Sluice:Layers:auth:Rates:0"] = "3/15min",
        };
        await using var app = await TestApp.StartAsync(
            settings,
            map: a => a.MapPost("/login", () => "ok").RequireRateLimit("auth"),
            beforeStart: a => a.Services.GetRequiredService<SluiceLimits>().SetOverrideAsync("auth", "192.0.2.1", ["1/15min"]).AsTask());

        var first = await app.SendAsync(HttpMethod.Post, "/login");
        var second = await app.SendAsync(HttpMethod.Post, "/login");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Id.Id == 7 && e.Message.StartsWith("Sluice:Layers:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnEndpointNamingAMissingLayer_StillStopsStartup_WhenOverridesWereRestoredBeforeIt()
    {
        var error = await Assert.ThrowsAsync<SluiceConfigurationException>(() => TestApp.StartAsync(
            Settings,
            map: a => a.MapPost("/login", () => "ok").RequireRateLimit("auth"),
            beforeStart: a => a.Services.GetRequiredService<SluiceLimits>().SetOverrideAsync("api-key", "vip", ["600/min"]).AsTask()));

        Assert.Equal("Endpoint 'HTTP: POST /login' requires rate-limit layer 'auth', which is not configured under Sluice:Layers.", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task Overrides_TakeKeysAsClientsSendThem_AndReachTheKeyTheLayerCountsBy()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:ClientIp:GroupIPv6By64"] = "true",
            ["Sluice:Layers:ip:Rates:0"] = "1/min",
            ["Sluice:Layers:domain:Key"] = "Route:name",
            ["Sluice:Layers:domain:Rates:0"] = "1/min",
        };
        await using var app = await TestApp.StartAsync(settings, map: a => a.MapGet("/domains/{name}", () => "ok"));
        var limits = app.App.Services.GetRequiredService<SluiceLimits>();

        // The middleware keys a route value lower-cased, an IPv6 client by its /64 and an IPv4-mapped client as IPv4.
        await limits.SetOverrideAsync("domain", "Example.COM", ["3/min"]);
        await limits.SetOverrideAsync("ip", "2001:DB8:0:1::7", ["3/min"]);
        await limits.SetOverrideAsync("ip", "::ffff:198.51.100.9", ["3/min"]);
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 3; i++)
        {
            statuses.Add((await app.GetAsync("/domains/example.com", remote: $"192.0.2.{i}")).StatusCode);
            statuses.Add((await app.GetAsync($"/domains/a{i}", remote: $"2001:db8:0:1::{i}")).StatusCode);
            statuses.Add((await app.GetAsync($"/domains/b{i}", remote: "::ffff:198.51.100.9")).StatusCode);
        }

        var usage = await limits.GetUsageAsync("ip", "2001:db8:0:1:ffff::1");
        var domain = await limits.GetOverrideAsync("domain", "EXAMPLE.com");

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(0, usage.Single().Remaining);
        Assert.Equal([Rate.Parse("3/min")], domain);
        Assert.True(await limits.RemoveOverrideAsync("ip", "198.51.100.9"));
    }

    [Fact]
    public async Task BadOverrides_AreRejectedNamingTheProblem()
    {
        await using var app = await TestApp.StartAsync(Settings);
        var limits = app.App.Services.GetRequiredService<SluiceLimits>();

        var badRate = await Assert.ThrowsAsync<ArgumentException>(async () => await limits.SetOverrideAsync("api-key", "k", ["-5/min"]));
        var badLayer = await Assert.ThrowsAsync<ArgumentException>(async () => await limits.SetOverrideAsync("nope", "k", ["5/min"]));

        Assert.Contains("'-5/min'", badRate.Message);
        Assert.Contains("'nope'", badLayer.Message);
    }
}
