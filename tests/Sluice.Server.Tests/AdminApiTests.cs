using System.Net;
using System.Net.Http.Json;

namespace Sluice.Server.Tests;

public sealed class AdminApiTests : IAsyncLifetime
{
    private readonly ServerHost _host = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task CreatingAnAccount_Answers201_WithItsIdAndQuota()
    {
        using var admin = _host.Admin();

        var response = await admin.PostAsJsonAsync("/admin/accounts", new { name = "Acme", plan = "enterprise" });
        var body = await ServerHost.Json(response);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(body.GetProperty("id").GetInt64() > 0);
        Assert.Equal("enterprise", body.GetProperty("plan").GetString());
        Assert.Equal(100_000, body.GetProperty("monthly_recipients").GetInt64());
    }

    [Fact]
    public async Task CreatingAKey_ShowsTheSecretOnce_AndTheKeyWorks()
    {
        var account = await _host.CreateAccountAsync();
        using var admin = _host.Admin();

        var response = await admin.PostAsync($"/admin/accounts/{account}/keys", null);
        var body = await ServerHost.Json(response);
        using var client = _host.WithKey(body.GetProperty("key").GetString()!);
        var usage = await (await admin.GetAsync($"/admin/accounts/{account}/usage")).Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(body.GetProperty("id").GetInt64() > 0);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);
        Assert.DoesNotContain(body.GetProperty("key").GetString()!, usage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeysLimits_CanBeRaised_AndRestored_AtRunTime()
    {
        var (_, keyId, client) = await _host.NewCustomerAsync();
        using var admin = _host.Admin();
        await client.GetAsync("/api/me");

        var put = await admin.PutAsJsonAsync($"/admin/keys/{keyId}/limits", new { rates = new[] { "600/min" } });
        var raised = await client.GetAsync("/api/me");
        var delete = await admin.DeleteAsync($"/admin/keys/{keyId}/limits");
        var restored = await client.GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("600", raised.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("598", raised.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal("60", restored.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("57", restored.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task AChangeOfAKeysLimitsThatCannotBeSaved_Answers500_AndTheKeyKeepsItsRates()
    {
        var (_, keyId, client) = await _host.NewCustomerAsync();
        using var admin = _host.Admin();
        await admin.PutAsJsonAsync($"/admin/keys/{keyId}/limits", new { rates = new[] { "120/min" } });
        await _host.ExecuteSqlAsync("CREATE TRIGGER refuse_rates BEFORE UPDATE OF RatesOverride ON api_keys BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;");

        var raised = await admin.PutAsJsonAsync($"/admin/keys/{keyId}/limits", new { rates = new[] { "600/min" } });
        var afterRaise = await client.GetAsync("/api/me");
        var reset = await admin.DeleteAsync($"/admin/keys/{keyId}/limits");
        var afterReset = await client.GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.InternalServerError, raised.StatusCode);
        Assert.Equal("120", afterRaise.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal(HttpStatusCode.InternalServerError, reset.StatusCode);
        Assert.Equal("120", afterReset.Headers.GetValues("X-RateLimit-Limit").Single());
    }

    [Fact]
    public async Task AKeysLimits_AreKeptAndEchoedInTheCanonicalForm()
    {
        var (account, keyId, _) = await _host.NewCustomerAsync();
        using var admin = _host.Admin();

        var put = await ServerHost.Json(await admin.PutAsJsonAsync($"/admin/keys/{keyId}/limits", new { rates = new[] { " 600 / MIN ", "10000/60min" } }));
        var usage = await ServerHost.Json(await admin.GetAsync($"/admin/accounts/{account}/usage"));

        Assert.Equal(["600/min", "10000/h"], put.GetProperty("rates").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(600, usage.GetProperty("keys")[0].GetProperty("rate_limits")[0].GetProperty("limit").GetInt64());
    }

    /// <summary>A key created on a first server over this test's database, given <paramref name="rates"/>; the server then stops.</summary>
    private async Task<(long KeyId, string Key)> KeyWithRatesSetBeforeARestartAsync(params string[] rates)
    {
        await using var first = new ServerHost(directory: _host.Directory);
        var created = await first.CreateKeyAsync(await first.CreateAccountAsync());
        using var admin = first.Admin();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/admin/keys/{created.Id}/limits", new { rates })).StatusCode);
        return created;
    }

    [Fact]
    public async Task AKeysRaisedLimit_SurvivesARestart_WhichLogsNoWarningOfUnusedLayers()
    {
        var (_, key) = await KeyWithRatesSetBeforeARestartAsync("600/min");

        await using var restarted = new ServerHost(directory: _host.Directory);
        using var client = restarted.WithKey(key);

        Assert.Equal("600", (await client.GetAsync("/api/me")).Headers.GetValues("X-RateLimit-Limit").Single());

        // Restoring the override started Sluice before the pipeline was built; the endpoint layers were then all
        // reported as applying to no endpoint.
        Assert.DoesNotContain(restarted.Logs.Entries, e => e.Category.StartsWith("Sluice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StoredKeyLimitsThatNoLongerFitTheLayer_AreLoggedAndLeftOut_AndTheServerStarts()
    {
        var (keyId, key) = await KeyWithRatesSetBeforeARestartAsync("600/min", "10000/h");

        // The operator makes the api-key layer a concurrency layer, which takes one rate: the stored two do not fit.
        await using var restarted = new ServerHost(
            new() { ["Sluice:Layers:api-key:Algorithm"] = "Concurrency", ["Sluice:Layers:api-key:Rates:0"] = "5/1min" },
            directory: _host.Directory);
        using var client = restarted.WithKey(key);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);
        var warning = Assert.Single(restarted.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains($"key {keyId}", StringComparison.Ordinal));
        Assert.Contains("concurrency layer takes exactly one rate", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccountsOnAPlanNoLongerConfigured_AreReportedAtStartup_OncePerPlan()
    {
        await using (var first = new ServerHost(new() { ["Quotas:Plans:startup"] = "10" }, directory: _host.Directory))
        {
            await first.CreateAccountAsync(plan: "startup");
            await first.CreateAccountAsync(plan: "startup");
            var own = await first.CreateAccountAsync(plan: "startup");
            using var admin = first.Admin();
            await admin.PutAsJsonAsync($"/admin/accounts/{own}/quota", new { monthly_recipients = 5 });
            Assert.DoesNotContain(first.Logs.Entries, e => e.Message.Contains("Quotas:Plans", StringComparison.Ordinal));
        }

        await using var restarted = new ServerHost(directory: _host.Directory);
        using var anonymous = restarted.Anonymous();
        await anonymous.GetAsync("/healthz");

        var warning = Assert.Single(restarted.Logs.Entries, e => e.Message.Contains("Quotas:Plans", StringComparison.Ordinal));
        Assert.StartsWith("2 account(s) are on plan 'startup'", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerWithStoredKeyLimits_StartsEvenWhenTheSharedStoreIsDown()
    {
        var (_, key) = await KeyWithRatesSetBeforeARestartAsync("600/min");

        await using var restarted = new ServerHost(
            new() { ["Sluice:Store"] = "Redis", ["Sluice:Redis:Configuration"] = "127.0.0.1:1,connectTimeout=200", ["Sluice:Redis:Timeout"] = "00:00:00.200" },
            directory: _host.Directory);
        using var client = restarted.WithKey(key);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Usage_ShowsTheQuota_AndEachKeysWindow()
    {
        var (account, keyId, client) = await _host.NewCustomerAsync();
        await ServerHost.Issue(client, "a@example.com");
        await client.GetAsync("/api/me");
        using var admin = _host.Admin();

        var body = await ServerHost.Json(await admin.GetAsync($"/admin/accounts/{account}/usage"));
        var key = body.GetProperty("keys")[0];

        Assert.Equal(1, body.GetProperty("quota").GetProperty("used").GetInt64());
        Assert.Equal(49, body.GetProperty("quota").GetProperty("remaining").GetInt64());
        Assert.Equal(keyId, key.GetProperty("id").GetInt64());
        Assert.Equal(60, key.GetProperty("rate_limits")[0].GetProperty("limit").GetInt64());
        Assert.Equal(58, key.GetProperty("rate_limits")[0].GetProperty("remaining").GetInt64());
    }

    [Theory]
    [InlineData("/admin/keys/{key}/limits", """{"rates":["-1/min"]}""", "rates[0]")]
    [InlineData("/admin/keys/{key}/limits", """{"rates":["600/min","often"]}""", "rates[1]")]
    [InlineData("/admin/keys/{key}/limits", """{"rates":[]}""", "rates")]
    [InlineData("/admin/keys/{key}/limits", """{"rates":"600/min"}""", "rates")]
    [InlineData("/admin/accounts/{account}/quota", """{"monthly_recipients":-5}""", "monthly_recipients")]
    [InlineData("/admin/accounts/{account}/quota", """{"monthly_recipients":"many"}""", "monthly_recipients")]
    public async Task BadInput_Gets400_NamingTheField(string path, string json, string field)
    {
        var (account, keyId, _) = await _host.NewCustomerAsync();
        using var admin = _host.Admin();
        var url = path.Replace("{key}", keyId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{account}", account.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var response = await admin.PutAsync(url, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await ServerHost.Json(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, body.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("""{"rates":["5/min","5/min"]}""", "The override of layer 'api-key' is invalid: a rate is repeated.")]
    [InlineData("""{"rates":["1/s","2/s","3/s","4/s","5/s","6/s","7/s","8/s","9/s"]}""", "The override of layer 'api-key' is invalid: it has 9 rates; at most 8 are allowed.")]
    public async Task AnOverrideTheLayerCannotTake_Gets400_SayingWhyInTheApisWords(string json, string detail)
    {
        var (_, keyId, _) = await _host.NewCustomerAsync();
        using var admin = _host.Admin();

        var response = await admin.PutAsync($"/admin/keys/{keyId}/limits", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await ServerHost.Json(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("rates", body.GetProperty("field").GetString());
        Assert.Equal(detail, body.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"name":"x",}""", "body", "The body is not valid JSON (line 1, byte 13): The JSON object contains a trailing comma at the end which is not supported in this mode.")]
    [InlineData("[1]", "body", "The body must be a JSON object.")]
    [InlineData("""{"name":"x","plan":["free"]}""", "plan", "plan has the wrong JSON type, or a number out of range.")]
    [InlineData("""{"name":"\ud800","plan":"free"}""", "name", "name is not valid text: it escapes a lone UTF-16 surrogate.")]
    [InlineData("""{"name":"x","plan":"\udc00"}""", "plan", "plan is not valid text: it escapes a lone UTF-16 surrogate.")]
    public async Task AnUnreadableBody_Gets400_InTheClientsTerms_WithoutDotNetTypeNames(string json, string field, string detail)
    {
        using var admin = _host.Admin();

        var response = await admin.PostAsync("/admin/accounts", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await ServerHost.Json(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, body.GetProperty("field").GetString());
        Assert.Equal(detail, body.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"plan":"free"}""", "name")]
    [InlineData("""{"name":"Acme","plan":"platinum"}""", "plan")]
    [InlineData("""{"name":"Ac\u0007me","plan":"free"}""", "name")]
    public async Task ABadAccount_Gets400_NamingTheField(string json, string field)
    {
        using var admin = _host.Admin();

        var response = await admin.PostAsync("/admin/accounts", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await ServerHost.Json(response)).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token-0123456789")]
    public async Task AWrongOrMissingAdminToken_Gets401(string? token)
    {
        using var client = token is null ? _host.Anonymous() : _host.WithKey(token);

        var response = await client.PostAsJsonAsync("/admin/accounts", new { name = "Acme", plan = "free" });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("UNAUTHORIZED", (await ServerHost.Json(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task AnApiKey_IsNotAnAdminToken()
    {
        var account = await _host.CreateAccountAsync();
        var (_, key) = await _host.CreateKeyAsync(account);
        using var client = _host.WithKey(key);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/admin/accounts/{account}/usage")).StatusCode);
    }

    [Theory]
    [InlineData("POST", "/admin/accounts/999/keys")]
    [InlineData("DELETE", "/admin/keys/999")]
    [InlineData("DELETE", "/admin/keys/999/limits")]
    [InlineData("GET", "/admin/accounts/999/usage")]
    public async Task UnknownAccountsAndKeys_Get404(string method, string path)
    {
        using var admin = _host.Admin();

        var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TheAdminApi_IsExemptFromTheIpLayer()
    {
        using var admin = _host.Admin();
        for (var i = 0; i < 110; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/accounts/999/usage")).StatusCode);
        }
    }
}
