using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests.Middleware;

/// <summary>
/// The middleware's two paths held to each other: with the in-memory store it decides inline, on the stack; with any
/// other store it awaits. Two apps, identical but for a store that only forwards to an in-memory one (which sends the
/// second app down the awaiting path), get the same seeded random requests on clocks moved in step: every response
/// must match, status, rate-limit headers (both kinds) and body.
/// </summary>
public sealed class MiddlewarePathsDifferentialTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Sluice:IetfHeaders"] = "true",
        ["Sluice:Layers:global-ip:Key"] = "Ip",
        ["Sluice:Layers:global-ip:Rates:0"] = "8/10s",
        ["Sluice:Layers:api-key:Key"] = "ApiKey",
        ["Sluice:Layers:api-key:Rates:0"] = "5/10s",
        ["Sluice:Layers:api-key:Rates:1"] = "20/min",
        ["Sluice:Layers:api-key:Headline"] = "true",
        ["Sluice:Layers:auth:Key"] = "Ip",
        ["Sluice:Layers:auth:Scope"] = "Endpoint",
        ["Sluice:Layers:auth:Rates:0"] = "3/min",
        ["Sluice:Layers:per-domain:Key"] = "Route:domain",
        ["Sluice:Layers:per-domain:Scope"] = "Endpoint",
        ["Sluice:Layers:per-domain:Algorithm"] = "SlidingWindow",
        ["Sluice:Layers:per-domain:Methods"] = "Write",
        ["Sluice:Layers:per-domain:Rates:0"] = "2/s",
        ["Sluice:Layers:per-domain:Rates:1"] = "6/min",
        ["Sluice:Layers:watch:Key"] = "Ip",
        ["Sluice:Layers:watch:Shadow"] = "true",
        ["Sluice:Layers:watch:Rates:0"] = "4/10s",
        ["Sluice:Layers:reads:Key"] = "ApiKey",
        ["Sluice:Layers:reads:Algorithm"] = "TokenBucket",
        ["Sluice:Layers:reads:Methods"] = "Read",
        ["Sluice:Layers:reads:Rates:0"] = "3/5s",
    };

    private static readonly string[] s_headers = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "RateLimit-Policy", "RateLimit"];

    private static void Map(WebApplication app)
    {
        app.MapGet("/ping", () => "pong");
        app.MapPost("/login", () => "ok").RequireRateLimit("auth");
        app.MapMethods("/domains/{domain}/rrsets", ["GET", "PATCH"], (string domain) => domain)
            .RequireRateLimit("per-domain")
            .WithRateLimitCost(c => long.Parse(c.Request.Query["cost"].FirstOrDefault() ?? "1", CultureInfo.InvariantCulture));
        app.MapGet("/health", () => "ok").DisableRateLimit();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task RandomRequests_GetTheSameResponsesInlineAndAwaited(int seed)
    {
        await using var inline = await TestApp.StartAsync(Settings, Map);
        await using var awaited = await TestApp.StartAsync(Settings, Map, services: s => s.AddKeyedSingleton<RateLimitStore>("Memory", (sp, _) =>
            new RecordingStore(new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = sp.GetRequiredService<TimeProvider>() })) { YieldFirst = true }));
        var random = new Random(seed);
        string?[] apiKeys = [null, "k1", "k2", "k3"];
        string[] remotes = ["192.0.2.1", "192.0.2.2", "2001:db8::7"];
        var statuses = new List<int>();
        for (var step = 0; step < 400; step++)
        {
            var advance = TimeSpan.FromMilliseconds(random.Next(3) switch { 0 => 0, 1 => random.Next(1, 900), _ => random.Next(900, 12_000) });
            inline.Clock.Advance(advance);
            awaited.Clock.Advance(advance);
            var (method, path) = random.Next(5) switch
            {
                0 => (HttpMethod.Get, "/ping"),
                1 => (HttpMethod.Post, "/login"),
                2 => (HttpMethod.Get, "/health"),
                _ => (random.Next(3) == 0 ? HttpMethod.Get : HttpMethod.Patch, $"/domains/{(random.Next(2) == 0 ? "example.com" : "example.org")}/rrsets?cost={random.Next(5) switch { 0 => 0, 1 => 3, 2 => 9, _ => 1 }}"),
            };
            var apiKey = apiKeys[random.Next(apiKeys.Length)];
            var remote = remotes[random.Next(remotes.Length)];

            using var one = await inline.SendAsync(method, path, apiKey, remote);
            using var other = await awaited.SendAsync(method, path, apiKey, remote);

            var context = $"seed {seed}, step {step}: {method} {path} key {apiKey ?? "-"} from {remote}";
            Assert.True(one.StatusCode == other.StatusCode, $"{context}: {one.StatusCode} inline, {other.StatusCode} awaited");
            foreach (var header in s_headers)
            {
                Assert.True(Header(one, header) == Header(other, header), $"{context}: {header} '{Header(one, header)}' inline, '{Header(other, header)}' awaited");
            }

            Assert.Equal(await one.Content.ReadAsStringAsync(), await other.Content.ReadAsStringAsync());
            statuses.Add((int)one.StatusCode);
        }

        // The traffic reaches both answers often, so both paths' allowing and denying are compared.
        Assert.True(statuses.Count(s => s == 200) > 40, $"{statuses.Count(s => s == 200)} allowed");
        Assert.True(statuses.Count(s => s == 429) > 40, $"{statuses.Count(s => s == 429)} denied");
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(" | ", values) : null;
}
