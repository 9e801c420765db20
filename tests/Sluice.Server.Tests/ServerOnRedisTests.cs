using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Server.Dns;
using Sluice.Redis.Tests;
using Sluice.Testing;

namespace Sluice.Server.Tests;

/// <summary>
/// The README's "many instances share limits through Redis": two instances of the reference server on one
/// redis-server (<c>Sluice:Store=Redis</c>, <c>Quotas:Store=Redis</c>) and one database file, one fake clock.
/// </summary>
public sealed class ServerOnRedisTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
    private readonly string _prefix = $"t{Guid.NewGuid():N}:";
    private ServerHost _a = null!;
    private ServerHost _b = null!;

    public Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Store"] = "Redis",
            ["Sluice:Redis:Configuration"] = redis.Configuration,
            ["Sluice:Redis:KeyPrefix"] = _prefix,
            ["Sluice:Redis:Timeout"] = "00:00:05",
            ["Sluice:Redis:FailureMode"] = "FailClosed",

            // Decide on the shared fake clock, not on Redis's TIME: no window may end in the middle of a test.
            ["Sluice:Redis:UseServerTime"] = "false",
            ["Quotas:Store"] = "Redis",

            // A write that finds its domain held answers 429 at once instead of waiting on the fake clock.
            ["Dns:WriteWait"] = "00:00:00",
        };
        _a = new ServerHost(settings, time: _time);
        _b = new ServerHost(settings, directory: _a.Directory, time: _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    private async Task<(long AccountId, long KeyId, HttpClient OnA, HttpClient OnB)> NewCustomerAsync()
    {
        var (accountId, keyId, onA) = await _a.NewCustomerAsync();
        return (accountId, keyId, onA, _b.WithKey(onA.DefaultRequestHeaders.Authorization!.Parameter!));
    }

    /// <summary>The keys this test's instances wrote to Redis whose names start with the prefix and then <paramref name="pattern"/>.</summary>
    private List<string> RedisKeys(string pattern)
        => [.. redis.Admin.GetServer("127.0.0.1", redis.Port).Keys(pattern: _prefix + pattern).Select(k => (string)k!)];

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();

    [Fact]
    public async Task AKeySpreadOverTwoInstances_GetsSixtyRequestsAMinute_NotSixtyOnEach()
    {
        var (_, _, onA, onB) = await NewCustomerAsync();
        var remaining = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var response = await (i % 2 == 0 ? onA : onB).GetAsync("/api/me");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            remaining.Add(Header(response, "X-RateLimit-Remaining"));
        }

        var deniedOnA = await onA.GetAsync("/api/me");
        var deniedOnB = await onB.GetAsync("/api/me");
        _time.Advance(TimeSpan.FromMinutes(1));
        var nextMinute = await onB.GetAsync("/api/me");

        Assert.Equal(Enumerable.Range(0, 60).Select(i => (59 - i).ToString(System.Globalization.CultureInfo.InvariantCulture)), remaining);
        Assert.All([deniedOnA, deniedOnB], denied =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
            Assert.Equal("60", Header(denied, "Retry-After"));
            Assert.Equal("0", Header(denied, "X-RateLimit-Remaining"));
        });
        Assert.Equal("RATE_LIMITED", (await ServerHost.Json(deniedOnB)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, nextMinute.StatusCode);
        Assert.Equal("59", Header(nextMinute, "X-RateLimit-Remaining"));
        Assert.NotEmpty(RedisKeys("*api-key*"));
    }

    [Fact]
    public async Task AKeysLimitRaisedOnOneInstance_AppliesOnTheOther_KeepingUsage_AndItsRemovalToo()
    {
        var (_, keyId, onA, onB) = await NewCustomerAsync();
        var sent = 0;
        await onB.GetAsync("/api/me");
        sent++;

        var raised = await _a.Admin().PutAsJsonAsync($"/admin/keys/{keyId}/limits", new { rates = new[] { "600/min" } });
        _time.Advance(TimeSpan.FromSeconds(1));
        var afterRaise = await UntilLimitAsync(onB, "600");
        var sentByRaise = sent;
        var removed = await _b.Admin().DeleteAsync($"/admin/keys/{keyId}/limits");
        _time.Advance(TimeSpan.FromSeconds(1));
        var afterRemoval = await UntilLimitAsync(onA, "60");

        Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterRaise.StatusCode);
        Assert.Equal((600 - sentByRaise).ToString(System.Globalization.CultureInfo.InvariantCulture), Header(afterRaise, "X-RateLimit-Remaining"));
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterRemoval.StatusCode);
        Assert.Equal((60 - sent).ToString(System.Globalization.CultureInfo.InvariantCulture), Header(afterRemoval, "X-RateLimit-Remaining"));

        // The refresh the clock started reads Redis: real I/O, waited for with a bound. Every request counts.
        async Task<HttpResponseMessage> UntilLimitAsync(HttpClient client, string limit)
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                var response = await client.GetAsync("/api/me");
                sent++;
                if (Header(response, "X-RateLimit-Limit") == limit || bound.IsCancellationRequested)
                {
                    return response;
                }

                await Task.Delay(10);
            }
        }
    }

    [Fact]
    public async Task ThirtyNewRecipientsAtOnce_ThroughBothInstances_WithTenLeft_IssueExactlyTen()
    {
        var (accountId, _, onA, onB) = await NewCustomerAsync();
        var quota = await _b.Admin().PutAsJsonAsync($"/admin/accounts/{accountId}/quota", new { monthly_recipients = 10 });

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => ServerHost.Issue(i % 2 == 0 ? onA : onB, $"r{i}@example.com")));
        var usage = await ServerHost.Json(await _a.Admin().GetAsync($"/admin/accounts/{accountId}/usage"));

        Assert.Equal(HttpStatusCode.OK, quota.StatusCode);
        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(20, responses.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
        foreach (var refused in responses.Where(r => r.StatusCode == HttpStatusCode.Forbidden))
        {
            Assert.Equal("QUOTA_EXCEEDED", (await ServerHost.Json(refused)).GetProperty("code").GetString());
        }

        Assert.Equal(10, usage.GetProperty("quota").GetProperty("used").GetInt32());
        Assert.NotEmpty(RedisKeys("quota:*"));
    }

    [Fact]
    public async Task TheThirdWriteToADomainWithinASecond_IsThrottled_WhicheverInstancesTookTheFirstTwo()
    {
        var (_, _, onA, onB) = await NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Created, (await onA.PostAsJsonAsync("/api/v1/domains/", new { name = "example.com" })).StatusCode);
        _time.Advance(TimeSpan.FromSeconds(1));

        var first = await onA.PatchAsJsonAsync("/api/v1/domains/example.com/rrsets/", new[] { Txt("a") });
        _time.Advance(TimeSpan.FromMilliseconds(3));
        var second = await onB.PatchAsJsonAsync("/api/v1/domains/example.com/rrsets/", new[] { Txt("b") });
        _time.Advance(TimeSpan.FromMilliseconds(3));
        var third = await onA.PatchAsJsonAsync("/api/v1/domains/example.com/rrsets/", new[] { Txt("c") });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("""{"detail":"Request was throttled. Expected available in 1 second."}""", await third.Content.ReadAsStringAsync());
        Assert.Equal("1", Header(third, "Retry-After"));
    }

    [Fact]
    public async Task AWriteToADomainThatTheOtherInstanceIsWriting_IsThrottledOnceDnsWriteWaitHasPassed_AndPassesAfterIt()
    {
        var (_, _, onA, onB) = await NewCustomerAsync();
        Assert.Equal(HttpStatusCode.Created, (await onA.PostAsJsonAsync("/api/v1/domains/", new { name = "example.com" })).StatusCode);
        _time.Advance(TimeSpan.FromSeconds(1));

        HttpResponseMessage onOther;
        await using (await _a.Services.GetRequiredService<DomainWriteLocks>().AcquireAsync("example.com", TimeSpan.Zero, CancellationToken.None))
        {
            onOther = await onB.PatchAsJsonAsync("/api/v1/domains/example.com/rrsets/", new[] { Txt("a") });
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        var released = await onB.PatchAsJsonAsync("/api/v1/domains/example.com/rrsets/", new[] { Txt("b") });
        var listed = await onA.GetFromJsonAsync<JsonElement>("/api/v1/domains/example.com/rrsets/");

        Assert.Equal(HttpStatusCode.TooManyRequests, onOther.StatusCode);
        Assert.Equal("""{"detail":"Request was throttled. Expected available in 1 second."}""", await onOther.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        Assert.Equal(["b"], listed.EnumerateArray().Select(r => r.GetProperty("subname").GetString()));
    }

    private static object Txt(string subname) => new { subname, type = "TXT", ttl = 3600, records = new[] { "\"token\"" } };
}
