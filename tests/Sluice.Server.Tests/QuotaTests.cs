using System.Net;
using System.Net.Http.Json;

namespace Sluice.Server.Tests;

public sealed class QuotaTests : IAsyncLifetime
{
    private readonly ServerHost _host = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task TheFreePlansFiftyFirstNewRecipient_Gets403QuotaExceeded_WithTheQuotaHeaders()
    {
        var (_, keyId, client) = await _host.NewCustomerAsync("free");
        using var admin = _host.Admin();
        await admin.PutAsJsonAsync($"/admin/keys/{keyId}/limits", new { rates = new[] { "1000/min" } });
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await ServerHost.Issue(client, $"r{i}@example.com")).StatusCode);
        }

        var refused = await ServerHost.Issue(client, "r50@example.com");
        var body = await ServerHost.Json(refused);
        var known = await ServerHost.Issue(client, "r7@example.com");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        Assert.Equal("QUOTA_EXCEEDED", body.GetProperty("code").GetString());
        Assert.Equal(50, body.GetProperty("limit").GetInt64());
        Assert.Equal(50, body.GetProperty("used").GetInt64());
        Assert.Equal("2026-12-01T00:00:00Z", body.GetProperty("resets_at").GetString());
        Assert.Equal("50", refused.Headers.GetValues("X-Quota-Limit").Single());
        Assert.Equal("0", refused.Headers.GetValues("X-Quota-Remaining").Single());
        Assert.Equal("1796083200", refused.Headers.GetValues("X-Quota-Reset").Single());
        Assert.Equal(HttpStatusCode.Created, known.StatusCode);
    }

    [Fact]
    public async Task TheQuota_ResetsOnTheFirstOfTheMonth()
    {
        var (account, _, client) = await _host.NewCustomerAsync();
        using var admin = _host.Admin();
        await admin.PutAsJsonAsync($"/admin/accounts/{account}/quota", new { monthly_recipients = 1 });
        await ServerHost.Issue(client, "a@example.com");
        Assert.Equal(HttpStatusCode.Forbidden, (await ServerHost.Issue(client, "b@example.com")).StatusCode);

        _host.Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var nextMonth = await ServerHost.Issue(client, "b@example.com");

        Assert.Equal(HttpStatusCode.Created, nextMonth.StatusCode);
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), nextMonth.Headers.GetValues("X-Quota-Reset").Single());
    }

    [Fact]
    public async Task ThirtyConcurrentRequests_ForThirtyNewRecipients_WithTenLeft_IssueExactlyTen()
    {
        var (account, _, client) = await _host.NewCustomerAsync();
        using var admin = _host.Admin();
        await admin.PutAsJsonAsync($"/admin/accounts/{account}/quota", new { monthly_recipients = 15 });
        for (var i = 0; i < 5; i++)
        {
            await ServerHost.Issue(client, $"old{i}@example.com");
        }

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() => ServerHost.Issue(client, $"new{i}@example.com"))));
        var listed = await ServerHost.Json(await client.GetAsync("/api/certificates?page_size=100"));

        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(20, responses.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
        Assert.Equal(15, listed.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Usage_SurvivesARestart()
    {
        var directory = _host.Directory;
        long account;
        string key;
        await using (var first = new ServerHost(directory: directory))
        {
            account = await first.CreateAccountAsync();
            (_, key) = await first.CreateKeyAsync(account);
            using var client = first.WithKey(key);
            await ServerHost.Issue(client, "a@example.com");
            await ServerHost.Issue(client, "b@example.com");
        }

        await using var restarted = new ServerHost(directory: directory);
        using var again = restarted.WithKey(key);
        var me = await ServerHost.Json(await again.GetAsync("/api/me"));

        Assert.Equal(2, me.GetProperty("quota").GetProperty("used").GetInt64());
    }

    [Fact]
    public async Task PlanQuotas_AreConfigurable()
    {
        await using var host = new ServerHost(new() { ["Quotas:Plans:free"] = "2" });
        var (_, _, client) = await host.NewCustomerAsync("free");

        await ServerHost.Issue(client, "a@example.com");
        await ServerHost.Issue(client, "b@example.com");

        Assert.Equal(HttpStatusCode.Forbidden, (await ServerHost.Issue(client, "c@example.com")).StatusCode);
    }

    [Fact]
    public async Task AnAccountOverride_ReplacesThePlansQuota_AndNullRestoresIt()
    {
        var (account, _, client) = await _host.NewCustomerAsync("free");
        using var admin = _host.Admin();

        var set = await ServerHost.Json(await admin.PutAsJsonAsync($"/admin/accounts/{account}/quota", new { monthly_recipients = 200 }));
        var raised = await ServerHost.Json(await client.GetAsync("/api/me"));
        var cleared = await ServerHost.Json(await admin.PutAsJsonAsync($"/admin/accounts/{account}/quota", new { monthly_recipients = (long?)null }));

        Assert.Equal(200, set.GetProperty("monthly_recipients").GetInt64());
        Assert.Equal(200, raised.GetProperty("quota").GetProperty("monthly_recipients").GetInt64());
        Assert.Equal(50, cleared.GetProperty("monthly_recipients").GetInt64());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"monthly_recipient":10}""")]
    [InlineData("""{"monthlyRecipients":10}""")]
    public async Task AQuotaBodyWithoutMonthlyRecipients_Gets400_AndKeepsTheOverride(string json)
    {
        var (account, _, client) = await _host.NewCustomerAsync("free");
        using var admin = _host.Admin();
        await admin.PutAsJsonAsync($"/admin/accounts/{account}/quota", new { monthly_recipients = 200 });

        var response = await admin.PutAsync($"/admin/accounts/{account}/quota", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await ServerHost.Json(response);
        var me = await ServerHost.Json(await client.GetAsync("/api/me"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("monthly_recipients", body.GetProperty("field").GetString());
        Assert.Equal(200, me.GetProperty("quota").GetProperty("monthly_recipients").GetInt64());
    }
}
