using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Server.Dns;

namespace Sluice.Server.Tests;

public sealed class DnsWriteLockTests
{
    [Fact]
    public async Task AWriteThatWaitsLongerThanTheBound_IsThrottled_AndChangesNothing()
    {
        await using var host = new ServerHost(new() { ["Dns:WriteWait"] = "00:00:00.200" });
        var account = await host.CreateAccountAsync();
        var (_, key) = await host.CreateKeyAsync(account);
        using var client = host.Anonymous();
        client.DefaultRequestHeaders.Add("Authorization", "Token " + key);
        await client.PostAsJsonAsync("/api/v1/domains/", new { name = "example.com" });
        var rrset = new { subname = "a", type = "TXT", ttl = 3600, records = new[] { "\"x\"" } };

        HttpResponseMessage blocked;
        await using (await host.Services.GetRequiredService<DomainWriteLocks>().AcquireAsync("example.com", TimeSpan.Zero, CancellationToken.None))
        {
            blocked = await client.PostAsJsonAsync("/api/v1/domains/example.com/rrsets/", rrset);
        }

        var after = await client.PostAsJsonAsync("/api/v1/domains/example.com/rrsets/", rrset with { subname = "b" });
        var listed = await client.GetFromJsonAsync<JsonElement>("/api/v1/domains/example.com/rrsets/");

        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.Equal("{\"detail\":\"Request was throttled. Expected available in 1 second.\"}", await blocked.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.Equal(["b"], listed.EnumerateArray().Select(r => r.GetProperty("subname").GetString()));
    }

    [Fact]
    public async Task LocksOfIdleDomains_AreForgotten()
    {
        var locks = new DomainWriteLocks();

        await using (await locks.AcquireAsync("a.example", TimeSpan.Zero, CancellationToken.None))
        {
            Assert.Null(await locks.AcquireAsync("a.example", TimeSpan.Zero, CancellationToken.None));
            await using var other = await locks.AcquireAsync("b.example", TimeSpan.Zero, CancellationToken.None);
            Assert.NotNull(other);
            Assert.Equal(2, locks.TrackedDomains);
        }

        await using var again = await locks.AcquireAsync("a.example", TimeSpan.Zero, CancellationToken.None);
        Assert.NotNull(again);
        Assert.Equal(1, locks.TrackedDomains);
    }

    [Fact]
    public async Task TwoInstancesSharingAStore_NeverHoldOneDomainAtOnce_AndTheSecondWaitsForTheFirst()
    {
        var time = new Sluice.Testing.ManualTimeProvider();
        var shared = new Sluice.MemoryRateLimitStore(new Sluice.MemoryRateLimitStoreOptions { TimeProvider = time });
        var first = new DomainWriteLocks(shared, time);
        var second = new DomainWriteLocks(shared, time);

        var held = await first.AcquireAsync("example.com", TimeSpan.Zero, CancellationToken.None);
        var refused = await second.AcquireAsync("example.com", TimeSpan.Zero, CancellationToken.None);
        await using var elsewhere = await second.AcquireAsync("example.org", TimeSpan.Zero, CancellationToken.None);
        var waiting = second.AcquireAsync("example.com", TimeSpan.FromSeconds(10), CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(1);
        }

        var stillWaiting = !waiting.IsCompleted;
        await held!.DisposeAsync();
        while (!waiting.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(1);
        }

        await using var next = await waiting;

        Assert.NotNull(held);
        Assert.Null(refused);
        Assert.NotNull(elsewhere);
        Assert.True(stillWaiting);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task AWaitPastTheBound_OnAnotherInstancesLease_GivesUp()
    {
        var time = new Sluice.Testing.ManualTimeProvider();
        var shared = new Sluice.MemoryRateLimitStore(new Sluice.MemoryRateLimitStoreOptions { TimeProvider = time });
        await using var held = await new DomainWriteLocks(shared, time).AcquireAsync("example.com", TimeSpan.Zero, CancellationToken.None);

        var waiting = new DomainWriteLocks(shared, time).AcquireAsync("example.com", TimeSpan.FromMilliseconds(200), CancellationToken.None);
        while (!waiting.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(1);
        }

        Assert.Null(await waiting);
    }
}
