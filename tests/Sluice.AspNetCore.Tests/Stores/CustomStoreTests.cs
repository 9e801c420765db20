using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests.Stores;

/// <summary>
/// A store written outside the library: this project sees only Sluice's public API, so the store below compiles only if
/// a third party can report statuses and build decisions.
/// </summary>
public sealed class CustomStoreTests
{
    [Fact]
    public async Task AStoreWrittenOutsideTheLibrary_DrivesTheMiddleware_HeadersRetryAfterAndProblem()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:global-ip:Key"] = "Ip",
            ["Sluice:Layers:global-ip:Rates:0"] = "100/min",
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "60/min",
        };
        var store = new DenyApiKeyStore(ManualTimeProvider.DefaultStart.AddSeconds(50));
        await using var app = await TestApp.StartAsync(settings, a => a.MapGet("/api/me", () => "me"), services: s =>
            s.AddKeyedSingleton<RateLimitStore>("Memory", store));

        var response = await app.GetAsync("/api/me", apiKey: "k1");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("60", response.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("0", response.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(ManualTimeProvider.DefaultStart.AddMinutes(1).ToUnixTimeSeconds().ToString(), response.Headers.GetValues("X-RateLimit-Reset").Single());
        Assert.Equal("api-key", body.RootElement.GetProperty("layer").GetString());
        Assert.Equal(7, body.RootElement.GetProperty("retry_after").GetInt32());
        Assert.Equal(1, store.Decisions);
    }

    /// <summary>Allows every layer but <c>api-key</c>, which it denies for 6.2 s more, on its own clock.</summary>
    private sealed class DenyApiKeyStore(DateTimeOffset now) : RateLimitStore
    {
        public int Decisions { get; private set; }

        public override ValueTask<RateLimitDecision> AcquireAsync(ReadOnlyMemory<LayerKey> layers, Memory<RateStatus> statuses, long cost = 1, CancellationToken cancellationToken = default)
        {
            Decisions++;
            var span = statuses.Span;
            for (var i = 0; i < layers.Length; i++)
            {
                var layer = layers.Span[i].Layer;
                var rate = layer.Rates[0];
                span[i] = layer.Name == "api-key"
                    ? RateStatus.Denied(i, 0, rate, 0, now.AddSeconds(10), TimeSpan.FromSeconds(6.2))
                    : RateStatus.Allowed(i, 0, rate, rate.Limit - 1, now.AddSeconds(10));
            }

            return ValueTask.FromResult(RateLimitDecision.FromStatuses(span[..layers.Length], now));
        }

        public override ValueTask ReleaseAsync(ReadOnlyMemory<LayerKey> layers, long leaseId, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask SetOverrideAsync(RateLimitLayer layer, string key, IReadOnlyList<Rate> rates, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask<bool> RemoveOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default) => ValueTask.FromResult(false);

        public override ValueTask<IReadOnlyList<Rate>?> GetOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default) => ValueTask.FromResult<IReadOnlyList<Rate>?>(null);
    }
}
