using System.Collections.Concurrent;
using System.Net;

namespace Sluice.AspNetCore.Tests.Options;

/// <summary>Configuration reloads while requests are in flight: every request gets a whole configuration, never an error.</summary>
public sealed class HotReloadUnderLoadTests
{
    [Fact]
    public async Task ReloadsDuringConcurrentRequests_NeverFailARequest_AndTheLastConfigurationHoldsExactly()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "100/min",
            ["Sluice:Layers:global-ip:Key"] = "Ip",
            ["Sluice:Layers:global-ip:Rates:0"] = "1000000/min",
        };
        await using var app = await TestApp.StartAsync(settings);
        var statuses = new ConcurrentDictionary<HttpStatusCode, int>();
        var limits = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();

        var clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            var sent = 0;
            while (!stop.IsCancellationRequested || sent < 50)
            {
                using var response = await app.GetAsync("/ping", apiKey: $"client-{c}-{sent / 150}");
                sent++;
                statuses.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
                if (response.Headers.TryGetValues("X-RateLimit-Limit", out var values))
                {
                    limits.AddOrUpdate(values.Single(), 1, (_, n) => n + 1);
                }
            }
        })).ToList();

        // Valid changes of rates, algorithm and shadow mode, and invalid ones that must be ignored, while the clients run.
        (string Key, string Value)[] changes =
        [
            ("Sluice:Layers:api-key:Rates:0", "200/min"),
            ("Sluice:Layers:api-key:Algorithm", "SlidingWindow"),
            ("Sluice:Layers:api-key:Rates:0", "lots"),
            ("Sluice:Layers:api-key:Rates:0", "100/min"),
            ("Sluice:Layers:api-key:Shadow", "true"),
            ("Sluice:Layers:api-key:Algorithm", "Sideways"),
            ("Sluice:Layers:api-key:Algorithm", "FixedWindow"),
            ("Sluice:Layers:api-key:Shadow", "false"),
        ];
        for (var i = 0; i < 120; i++)
        {
            var (key, value) = changes[i % changes.Length];
            app.Reconfigure(new Dictionary<string, string?> { [key] = value });
            if (value is "lots" or "Sideways")
            {
                app.Reconfigure(new Dictionary<string, string?> { [key] = key.EndsWith("Rates:0", StringComparison.Ordinal) ? "100/min" : "FixedWindow" });
            }

            await Task.Delay(2);
        }

        stop.Cancel();
        await Task.WhenAll(clients);
        var seen = string.Join(", ", statuses.Select(s => $"{(int)s.Key}: {s.Value}"));

        Assert.All(statuses.Keys, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, seen));
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) >= 400, seen);
        Assert.All(limits.Keys, l => Assert.True(l is "100" or "200", $"X-RateLimit-Limit {l}"));
        Assert.Equal(2, limits.Count);

        // The last configuration is whole: 100/min, fixed window, enforcing, for a key never used before.
        var results = new List<HttpResponseMessage>();
        for (var i = 0; i < 101; i++)
        {
            results.Add(await app.GetAsync("/ping", apiKey: "after-the-reloads"));
        }

        Assert.Equal(100, results.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, results[^1].StatusCode);
        Assert.Equal("100", results[^1].Headers.GetValues("X-RateLimit-Limit").Single());
    }
}
