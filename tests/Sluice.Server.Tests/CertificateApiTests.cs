using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;

namespace Sluice.Server.Tests;

public sealed class CertificateApiTests : IAsyncLifetime
{
    private readonly ServerHost _host = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task Me_ShowsTheAccount_AndItsQuotaUsage_WithRateLimitAndQuotaHeaders()
    {
        var (account, _, client) = await _host.NewCustomerAsync("pro");
        await ServerHost.Issue(client, "ada@example.com");

        var response = await client.GetAsync("/api/me");
        var body = await ServerHost.Json(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(account, body.GetProperty("id").GetInt64());
        Assert.Equal("Acme", body.GetProperty("name").GetString());
        Assert.Equal("pro", body.GetProperty("plan").GetString());
        Assert.Equal(5000, body.GetProperty("quota").GetProperty("monthly_recipients").GetInt64());
        Assert.Equal(1, body.GetProperty("quota").GetProperty("used").GetInt64());
        Assert.Equal("2026-12-01T00:00:00Z", body.GetProperty("quota").GetProperty("resets_at").GetString());
        Assert.Equal("60", response.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("58", response.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal("4999", response.Headers.GetValues("X-Quota-Remaining").Single());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("X-Quota-Reset").Single());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk_not-a-real-key")]
    public async Task AMissingOrUnknownKey_Gets401Unauthorized_AsProblemJson(string? key)
    {
        using var client = key is null ? _host.Anonymous() : _host.WithKey(key);

        var response = await client.GetAsync("/api/me");
        var body = await ServerHost.Json(response);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("UNAUTHORIZED", body.GetProperty("code").GetString());
        Assert.False(response.Headers.Contains("X-RateLimit-Limit"));
    }

    [Fact]
    public async Task TheKeyIsAcceptedFromXApiKey_AndFromAuthorizationToken()
    {
        var account = await _host.CreateAccountAsync();
        var (_, key) = await _host.CreateKeyAsync(account);
        using var client = _host.Anonymous();

        using var viaHeader = new HttpRequestMessage(HttpMethod.Get, "/api/me") { Headers = { { "X-API-Key", key } } };
        using var viaToken = new HttpRequestMessage(HttpMethod.Get, "/api/me") { Headers = { { "Authorization", "Token " + key } } };

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(viaHeader)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(viaToken)).StatusCode);
    }

    [Fact]
    public async Task KeysAreStoredOnlyAsHashes()
    {
        var account = await _host.CreateAccountAsync();
        var (_, key) = await _host.CreateKeyAsync(account);

        var database = await File.ReadAllBytesAsync(_host.DatabasePath);
        var wal = File.Exists(_host.DatabasePath + "-wal") ? await File.ReadAllBytesAsync(_host.DatabasePath + "-wal") : [];
        var secret = System.Text.Encoding.UTF8.GetBytes(key);

        Assert.Equal(-1, database.AsSpan().IndexOf(secret));
        Assert.Equal(-1, wal.AsSpan().IndexOf(secret));
        await using var connection = new SqliteConnection($"Data Source={_host.DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT length(Hash) FROM api_keys";
        Assert.Equal(32L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task IssuingACertificate_Answers201_WithTheCertificate_AndItsLocation()
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await ServerHost.Issue(client, "Ada@Example.com", "Ada Lovelace", "Engines");
        var body = await ServerHost.Json(response);
        var fetched = await client.GetAsync(response.Headers.Location);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(body.GetProperty("id").GetInt64() > 0);
        Assert.Equal("Ada@Example.com", body.GetProperty("recipient_email").GetString());
        Assert.Equal("Ada Lovelace", body.GetProperty("recipient_name").GetString());
        Assert.Equal("Engines", body.GetProperty("course").GetString());
        Assert.Equal(_host.Time.GetUtcNow(), body.GetProperty("issued_at").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.Equal("49", response.Headers.GetValues("X-Quota-Remaining").Single());
    }

    [Theory]
    [InlineData("""{"recipient_name":"A","course":"C"}""", "recipient_email")]
    [InlineData("""{"recipient_email":"not-an-email","recipient_name":"A","course":"C"}""", "recipient_email")]
    [InlineData("""{"recipient_email":"a@example.com","course":"C"}""", "recipient_name")]
    [InlineData("""{"recipient_email":"a@example.com","recipient_name":"A","course":"  "}""", "course")]
    [InlineData("""{"recipient_email":42,"recipient_name":"A","course":"C"}""", "recipient_email")]
    [InlineData("""{"recipient_email":"a@example.com",""", "body")]
    [InlineData("""{"recipient_email":"a\u0000@example.com","recipient_name":"A","course":"C"}""", "recipient_email")]
    [InlineData("""{"recipient_email":"a@example.com","recipient_name":"A\u0000","course":"C"}""", "recipient_name")]
    [InlineData("""{"recipient_email":"a@example.com","recipient_name":"A","course":"Line\nbreak"}""", "course")]
    public async Task InvalidCertificates_Get400_NamingTheField_AndChargeNothing(string json, string field)
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await client.PostAsync("/api/certificates", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await ServerHost.Json(response);
        var me = await ServerHost.Json(await client.GetAsync("/api/me"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("VALIDATION_FAILED", body.GetProperty("code").GetString());
        Assert.Equal(field, body.GetProperty("field").GetString());
        Assert.Equal(0, me.GetProperty("quota").GetProperty("used").GetInt64());
    }

    [Fact]
    public async Task TheSameRecipientTwiceInAMonth_IsChargedOnce_WhateverItsCase()
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        await ServerHost.Issue(client, "ada@example.com");
        var second = await ServerHost.Issue(client, " ADA@example.com ");
        var me = await ServerHost.Json(await client.GetAsync("/api/me"));

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(1, me.GetProperty("quota").GetProperty("used").GetInt64());
    }

    [Fact]
    public async Task TheList_IsPaged_NewestFirst_AndShowsOnlyTheCallersCertificates()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        var (_, _, other) = await _host.NewCustomerAsync();
        for (var i = 0; i < 5; i++)
        {
            await ServerHost.Issue(client, $"r{i}@example.com");
        }

        var stranger = await ServerHost.Json(await ServerHost.Issue(other, "x@example.com"));
        var first = await ServerHost.Json(await client.GetAsync("/api/certificates?page=1&page_size=2"));
        var last = await ServerHost.Json(await client.GetAsync("/api/certificates?page=3&page_size=2"));
        var notMine = await client.GetAsync($"/api/certificates/{stranger.GetProperty("id").GetInt64()}");

        Assert.Equal(5, first.GetProperty("total").GetInt32());
        Assert.Equal(["r4@example.com", "r3@example.com"], first.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("recipient_email").GetString()));
        Assert.Equal("/api/certificates?page=2&page_size=2", first.GetProperty("next").GetString());
        Assert.Single(last.GetProperty("items").EnumerateArray());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, last.GetProperty("next").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, notMine.StatusCode);
        Assert.Equal("NOT_FOUND", (await ServerHost.Json(notMine)).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData(4, 2)]
    [InlineData(21_474_838, 100)]
    [InlineData(10_737_419, 200)]
    [InlineData(int.MaxValue, 200)]
    public async Task APagePastTheLast_IsEmpty_HoweverFarItIs(int page, int size)
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        for (var i = 0; i < 5; i++)
        {
            await ServerHost.Issue(client, $"r{i}@example.com");
        }

        var response = await client.GetAsync($"/api/certificates?page={page}&page_size={size}");
        var body = await ServerHost.Json(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(body.GetProperty("items").EnumerateArray());
        Assert.Equal(page, body.GetProperty("page").GetInt32());
        Assert.Equal(5, body.GetProperty("total").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("next").ValueKind);
    }

    [Theory]
    [InlineData("page=0", "page")]
    [InlineData("page_size=500", "page_size")]
    [InlineData("page=abc", "page")]
    [InlineData("page=999999999999", "page")]
    [InlineData("page=1&page_size=1.5", "page_size")]
    public async Task BadPaging_Gets400_NamingTheParameter(string query, string field)
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await client.GetAsync("/api/certificates?" + query);
        var body = await ServerHost.Json(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("VALIDATION_FAILED", body.GetProperty("code").GetString());
        Assert.Equal(field, body.GetProperty("field").GetString());
        Assert.StartsWith(field + " ", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARevokedKey_IsRefusedOnTheNextRequest()
    {
        var account = await _host.CreateAccountAsync();
        var (keyId, key) = await _host.CreateKeyAsync(account);
        using var client = _host.WithKey(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);

        using var admin = _host.Admin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/keys/{keyId}")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Healthz_NeedsNoKey()
    {
        using var client = _host.Anonymous();

        var response = await client.GetFromJsonAsync<Dictionary<string, string>>("/healthz");

        Assert.Equal("ok", response!["status"]);
    }
}
