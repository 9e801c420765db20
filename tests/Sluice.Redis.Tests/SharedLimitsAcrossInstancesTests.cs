using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sluice.AspNetCore;

namespace Sluice.Redis.Tests;

/// <summary>
/// Two instances of one ASP.NET Core application, configured only through <c>Sluice:*</c> with <c>Sluice:Store = Redis</c>
/// against a real redis-server: one client spread over both meets one set of limits, and an operator's override made
/// on one instance reaches the other.
/// </summary>
public sealed class SharedLimitsAcrossInstancesTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private sealed record Instance(WebApplication App, HttpClient Client, ManualTimeProvider Clock, IConfigurationRoot Configuration) : IAsyncDisposable
    {
        /// <summary>Changes one setting and raises the reload, as editing this instance's appsettings.json does.</summary>
        public void Reconfigure(string key, string value)
        {
            Configuration[key] = value;
            Configuration.Reload();
        }

        public async Task<HttpResponseMessage> GetAsync(string apiKey)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/ping");
            request.Headers.TryAddWithoutValidation("X-API-Key", apiKey);
            return await Client.SendAsync(request);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.DisposeAsync();
        }
    }

    private async Task<Instance> StartAsync(string prefix, IDictionary<string, string?>? changes = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Store"] = "Redis",
            ["Sluice:Redis:Configuration"] = redis.Configuration,
            ["Sluice:Redis:KeyPrefix"] = prefix,
            ["Sluice:Redis:Timeout"] = "00:00:05",
            ["Sluice:Redis:FailureMode"] = "FailClosed",
            ["Sluice:Redis:OverrideRefreshInterval"] = "00:00:01",
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "5/min",
            ["Sluice:Layers:global-ip:Key"] = "Ip",
            ["Sluice:Layers:global-ip:Rates:0"] = "1000/min",
        };
        foreach (var (key, value) in changes ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        var clock = new ManualTimeProvider();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSluice(configuration.GetSection("Sluice"));
        builder.Services.AddSluiceRedis(configuration.GetSection("Sluice:Redis"));
        var app = builder.Build();
        app.Use((context, next) =>
        {
            context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.1");
            return next(context);
        });
        app.UseSluice();
        app.MapGet("/ping", () => "pong");
        await app.StartAsync();
        return new Instance(app, app.GetTestClient(), clock, configuration);
    }

    [Fact]
    public async Task OneClientSpreadOverTwoInstances_MeetsOneLimit_AndBothReportTheSharedCount()
    {
        var prefix = RedisContractStores.UniqueName("shared") + ":";
        await using var a = await StartAsync(prefix);
        await using var b = await StartAsync(prefix);

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            responses.Add(await (i % 2 == 0 ? a : b).GetAsync("client-key"));
        }

        Assert.All(responses.Take(5), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(["4", "3", "2", "1", "0"], responses.Take(5).Select(r => r.Headers.GetValues("X-RateLimit-Remaining").Single()));
        Assert.Equal(HttpStatusCode.TooManyRequests, responses[5].StatusCode);
        Assert.True(responses[5].Headers.Contains("Retry-After"));
        Assert.Contains("\"code\":\"RATE_LIMITED\"", await responses[5].Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await a.GetAsync("client-key")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("another-key")).StatusCode);
    }

    [Fact]
    public async Task AnOverrideMadeOnOneInstance_ReachesTheOther_AtItsNextRefresh_KeepingUsage()
    {
        var prefix = RedisContractStores.UniqueName("override") + ":";
        await using var a = await StartAsync(prefix);
        await using var b = await StartAsync(prefix);
        for (var i = 0; i < 5; i++)
        {
            await b.GetAsync("vip");
        }

        await a.App.Services.GetRequiredService<SluiceLimits>().SetOverrideAsync("api-key", "vip", ["8/min"]);
        var onA = await a.GetAsync("vip");
        b.Clock.Advance(TimeSpan.FromSeconds(1));

        // The refresh the clock started reads Redis: real I/O, waited for with a bound.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        HttpResponseMessage onB;
        while ((onB = await b.GetAsync("vip")).StatusCode == HttpStatusCode.TooManyRequests && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.Equal(HttpStatusCode.OK, onA.StatusCode);
        Assert.Equal("8", onA.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("2", onA.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(HttpStatusCode.OK, onB.StatusCode);
        Assert.Equal("8", onB.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("1", onB.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task AReloadThatChangesAPeriod_OnEveryInstance_KeepsTheUsageTheyShare()
    {
        var prefix = RedisContractStores.UniqueName("reload") + ":";
        Dictionary<string, string?> hourly = new()
        {
            ["Sluice:Layers:api-key:Rates:0"] = "100/h",
            // Both instances read one fake clock's time (two clocks at the same instant), so that no real minute ends
            // between the requests.
            ["Sluice:Redis:UseServerTime"] = "false",
        };
        await using var a = await StartAsync(prefix, hourly);
        await using var b = await StartAsync(prefix, hourly);
        a.Clock.Advance(TimeSpan.FromSeconds(10));
        b.Clock.Advance(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 4; i++)
        {
            await (i % 2 == 0 ? a : b).GetAsync("k");
        }

        // Each instance's appsettings.json is edited, as a deployment does: the hour's 4 now count in this minute.
        a.Reconfigure("Sluice:Layers:api-key:Rates:0", "5/min");
        b.Reconfigure("Sluice:Layers:api-key:Rates:0", "5/min");
        var onA = await a.GetAsync("k");

        // The other instance meets its reload a second later: it must read what the first one converted as it is.
        a.Clock.Advance(TimeSpan.FromSeconds(1));
        b.Clock.Advance(TimeSpan.FromSeconds(1));
        var onB = await b.GetAsync("k");
        var onAAgain = await a.GetAsync("k");

        Assert.Equal(HttpStatusCode.OK, onA.StatusCode);
        Assert.Equal("5", onA.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("0", onA.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, onB.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, onAAgain.StatusCode);
    }
}
