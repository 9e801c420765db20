using System.Net;
using System.Threading.RateLimiting;
using Sluice.RateLimiting;

namespace Sluice.Client.Tests;

/// <summary><see cref="SluiceClientOptions.SharedLimiter"/>: one budget for every client (process) that calls an API.</summary>
public sealed class SharedLimiterTests
{
    [Fact]
    public async Task ClientsSharingALimiter_SendOnlyWhatItsRatesAllow_TogetherAndPerDomain()
    {
        var h = new ClientHarness(o => o.Pacing = false);
        var store = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = h.Time });
        var writes = RateLimitLayer.FixedWindow("domain-writes", Rate.Parse("2/s"));
        h.Options.SharedLimiter = new SluicePartitionedRateLimiter<HttpRequestMessage>(store, [new(writes, r => r.RequestUri!.Segments[^1])]);

        // Two handlers stand for two processes: nothing is shared between them but the limiter.
        using var first = h.NewClient();
        using var second = h.NewClient();
        var start = h.Time.GetUtcNow();
        var sends = Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? first : second).PostAsync("domains/example.com", null))
            .Append(first.PostAsync("domains/example.org", null));
        var responses = await h.Drive(Task.WhenAll(sends));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var seconds = h.Server.Received.Where(r => r.Path.EndsWith(".com", StringComparison.Ordinal))
            .Select(r => (int)(r.At - start).TotalSeconds).Order().ToList();
        Assert.Equal([0, 0, 1, 1, 2, 2], seconds);
        Assert.Equal(TimeSpan.Zero, h.Server.Received.Single(r => r.Path.EndsWith(".org", StringComparison.Ordinal)).At - start);
    }

    [Fact]
    public async Task AWaitLongerThanMaxWait_FailsFast_WithTheLimitersRetryAfter()
    {
        var h = new ClientHarness(o => o.Pacing = false);
        var store = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = h.Time });
        var hourly = RateLimitLayer.FixedWindow("hourly", Rate.Parse("1/h"));
        h.Options.SharedLimiter = new SluicePartitionedRateLimiter<HttpRequestMessage>(store, [new(hourly, r => r.RequestUri!.Host)]);
        using var client = h.NewClient();

        await h.Drive(client.GetAsync("items"));
        var error = await Assert.ThrowsAsync<SluiceRateLimitedException>(() => h.Drive(client.GetAsync("items")));

        Assert.Equal(TimeSpan.FromHours(1), error.RetryAfter);
        Assert.Contains("hourly", error.Message);
        Assert.Single(h.Server.Received);
    }

    [Fact]
    public async Task ARequestTheSharedLimiterRefuses_IsNotCountedByTheLocalPacer()
    {
        var h = new ClientHarness(o =>
        {
            o.ReadRates.Add(ClientRate.Parse("1/min"));
            o.MaxAttempts = 1;
        });
        using var inFlight = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 0 });
        h.Options.SharedLimiter = PartitionedRateLimiter.Create<HttpRequestMessage, string>(_ => RateLimitPartition.Get("all", _ => inFlight));
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();
        using (inFlight.AttemptAcquire())
        {
            await Assert.ThrowsAsync<SluiceRateLimitedException>(() => h.Drive(client.GetAsync("items")));
        }

        await h.Drive(client.GetAsync("items"));

        Assert.Equal(start, h.Server.Received.Single().At);
    }

    [Fact]
    public async Task RefusalsWithoutAWait_BackOff_AndFailAfterMaxAttempts()
    {
        var h = new ClientHarness(o =>
        {
            o.Pacing = false;
            o.MaxAttempts = 3;
        });
        using var inFlight = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 0 });
        h.Options.SharedLimiter = PartitionedRateLimiter.Create<HttpRequestMessage, string>(_ => RateLimitPartition.Get("all", _ => inFlight));
        using var held = inFlight.AttemptAcquire();
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        var error = await Assert.ThrowsAsync<SluiceRateLimitedException>(() => h.Drive(client.GetAsync("items")));

        // Refused at 0 s, 1 s (after the initial delay) and 3 s (after twice that): three refusals, nothing sent.
        Assert.Equal(TimeSpan.FromSeconds(3), h.Time.GetUtcNow() - start);
        Assert.Contains("3 times in a row", error.Message);
        Assert.Empty(h.Server.Received);
    }
}
