using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Server.Tests;

/// <summary>The OpenAPI document against what the server answers: every status a sweep of requests gets is documented.</summary>
public sealed class OpenApiStatusTests : IAsyncLifetime
{
    private readonly StatusRecorder _recorder = new();
    private readonly ServerHost _host;

    public OpenApiStatusTests() => _host = new ServerHost(services: s => s.AddSingleton<IStartupFilter>(_recorder));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task EveryStatusASweepOfRequestsGets_IsDocumentedForItsOperation()
    {
        await SweepAsync();
        using var anonymous = _host.Anonymous();
        var document = await ServerHost.Json(await anonymous.GetAsync("/openapi/v1.json"));

        var undocumented = _recorder.Answers
            .Where(a => a.Status < 500 && !a.Path.StartsWith("/openapi", StringComparison.Ordinal))
            .Distinct()
            .Where(a => !document.GetProperty("paths").TryGetProperty(a.Path, out var item)
                || !item.TryGetProperty(a.Method, out var operation)
                || !operation.GetProperty("responses").TryGetProperty(a.Status.ToString(System.Globalization.CultureInfo.InvariantCulture), out _))
            .Select(a => $"{a.Method.ToUpperInvariant()} {a.Path} {a.Status}")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(undocumented.Count == 0, "Answered but not documented: " + string.Join("; ", undocumented));
        // The pagination answers were reached, not throttled away.
        Assert.Contains(("get", "/api/v1/domains/{name}/rrsets", 400), _recorder.Answers);
        Assert.Contains(("get", "/api/v1/domains", 404), _recorder.Answers);
        // The sweep reached every operation the document describes (the document itself aside).
        var reached = _recorder.Answers.Select(a => (a.Method, a.Path)).ToHashSet();
        var described = document.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(o => (Method: o.Name, Path: p.Name))).ToList();
        Assert.DoesNotContain(described, d => !reached.Contains(d));
    }

    /// <summary>Each operation, answered with success and with the errors a client can cause.</summary>
    private async Task SweepAsync()
    {
        using var admin = _host.Admin();
        using var anonymous = _host.Anonymous();

        // Admin: created, invalid, unknown, unauthenticated.
        var account = (await ServerHost.Json(await admin.PostAsync("/admin/accounts", JsonBody("""{"name":"Sweep","plan":"free"}""")))).GetProperty("id").GetInt64();
        await admin.PostAsync("/admin/accounts", JsonBody("""{"name":"Sweep","plan":"no-such-plan"}"""));
        await anonymous.PostAsync("/admin/accounts", JsonBody("""{"name":"Sweep","plan":"free"}"""));
        var created = await ServerHost.Json(await admin.PostAsync($"/admin/accounts/{account}/keys", null));
        var (keyId, key) = (created.GetProperty("id").GetInt64(), created.GetProperty("key").GetString()!);
        await admin.PostAsync("/admin/accounts/999999/keys", null);
        await admin.PutAsync($"/admin/keys/{keyId}/limits", JsonBody("""{"rates":["600/min"]}"""));
        await admin.PutAsync($"/admin/keys/{keyId}/limits", JsonBody("""{"rates":["600/fortnight"]}"""));
        await admin.PutAsync("/admin/keys/999999/limits", JsonBody("""{"rates":["600/min"]}"""));
        await admin.DeleteAsync($"/admin/keys/{keyId}/limits");
        await admin.DeleteAsync("/admin/keys/999999/limits");
        await admin.PutAsync($"/admin/accounts/{account}/quota", JsonBody("""{"monthly_recipients":1}"""));
        await admin.PutAsync($"/admin/accounts/{account}/quota", JsonBody("""{"monthly_recipients":-1}"""));
        await admin.PutAsync("/admin/accounts/999999/quota", JsonBody("""{"monthly_recipients":1}"""));
        await admin.GetAsync($"/admin/accounts/{account}/usage");
        await admin.GetAsync("/admin/accounts/999999/usage");
        var spare = (await ServerHost.Json(await admin.PostAsync($"/admin/accounts/{account}/keys", null))).GetProperty("id").GetInt64();
        await admin.DeleteAsync($"/admin/keys/{spare}");
        await admin.DeleteAsync("/admin/keys/999999");

        // Certificates: issued, invalid, over the quota (1), listed, found, missing, bulk.
        using var client = _host.WithKey(key);
        await client.GetAsync("/api/me");
        await anonymous.GetAsync("/api/me");
        var issued = await ServerHost.Json(await ServerHost.Issue(client, "ada@example.com"));
        await ServerHost.Issue(client, "not-an-address");
        await ServerHost.Issue(client, "babbage@example.com");
        await client.GetAsync("/api/certificates");
        await client.GetAsync("/api/certificates?page=0");
        await client.GetAsync($"/api/certificates/{issued.GetProperty("id").GetInt64()}");
        await client.GetAsync("/api/certificates/999999");
        await client.PostAsync("/api/certificates/bulk", new StringContent("recipient_email,recipient_name,course\nada@example.com,Ada,Engines\n", Encoding.UTF8, "text/csv"));
        await client.PostAsync("/api/certificates/bulk", new StringContent("recipient_email\n\"unterminated\n", Encoding.UTF8, "text/csv"));
        using var pdf = new ByteArrayContent("x"u8.ToArray());
        pdf.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        await client.PostAsync("/api/certificates/bulk", pdf);
        await client.PostAsync("/api/certificates/bulk", new StringContent("recipient_email,recipient_name,course\nnew@example.com,New,Engines\n", Encoding.UTF8, "text/csv"));

        // The public auth endpoint: accepted, invalid, then throttled (3 per 15 minutes).
        for (var i = 0; i < 4; i++)
        {
            await anonymous.PostAsJsonAsync("/api/auth/resend-verification-public", new { email = i == 1 ? "nobody" : "ada@example.com" });
        }

        await anonymous.GetAsync("/healthz");

        // DNS: each operation's success, its errors, and a throttled write.
        using var dns = _host.Anonymous();
        dns.DefaultRequestHeaders.Add("Authorization", "Token " + key);
        const string Rrsets = "/api/v1/domains/example.com/rrsets/";
        await dns.PostAsync("/api/v1/domains/", JsonBody("""{"name":"example.com"}"""));
        await dns.PostAsync("/api/v1/domains/", JsonBody("""{"name":"example.com"}"""));
        await anonymous.GetAsync("/api/v1/domains/");
        await dns.GetAsync("/api/v1/domains/");
        await dns.GetAsync("/api/v1/domains/example.com/");
        await dns.GetAsync("/api/v1/domains/missing.example/");
        await dns.GetAsync(Rrsets);
        await dns.GetAsync("/api/v1/domains/missing.example/rrsets/");

        // Pagination: a list longer than a page without a cursor, its first page, and cursors the server did not make.
        const string Long = "/api/v1/domains/long.example/rrsets/";
        await dns.PostAsync("/api/v1/domains/", JsonBody("""{"name":"long.example"}"""));
        await dns.PatchAsync(Long, JsonBody(JsonSerializer.Serialize(Enumerable.Range(0, 501).Select(i => new { subname = $"n{i}", type = "TXT", ttl = 3600, records = new[] { "\"v\"" } }))));
        await dns.GetAsync(Long);
        await dns.GetAsync(Long + "?cursor=");
        await dns.GetAsync(Long + "?cursor=bogus");
        await dns.GetAsync("/api/v1/domains/?cursor=bogus");
        var writes = new (HttpMethod Method, string Url, string Body)[]
        {
            (HttpMethod.Post, Rrsets, """{"subname":"a","type":"TXT","ttl":3600,"records":["\"1\""]}"""),
            (HttpMethod.Post, Rrsets, """[{"subname":"b","type":"TXT","ttl":3600,"records":["\"2\""]}]"""),
            (HttpMethod.Post, Rrsets, """{"subname":"a","type":"TXT","ttl":3600,"records":["\"1\""]}"""),
            (HttpMethod.Post, "/api/v1/domains/missing.example/rrsets/", """{"subname":"a","type":"TXT","ttl":3600,"records":["\"1\""]}"""),
            (HttpMethod.Patch, Rrsets, """[{"subname":"c","type":"TXT","ttl":3600,"records":["\"3\""]}]"""),
            (HttpMethod.Patch, Rrsets, """{"subname":"c","type":"TXT","ttl":3600,"records":[]}"""),
            (HttpMethod.Put, Rrsets, """[{"subname":"a","type":"TXT","ttl":3600,"records":["\"4\""]},{"subname":"b","type":"TXT","ttl":3600,"records":["\"2\""]}]"""),
            (HttpMethod.Put, Rrsets, """[{"subname":"a","type":"TXT","ttl":1,"records":["\"4\""]}]"""),
            (HttpMethod.Patch, Rrsets + "a/TXT/", """{"records":["\"5\""]}"""),
            (HttpMethod.Patch, Rrsets + "a/TXT/", """{"ttl":"soon"}"""),
            (HttpMethod.Put, Rrsets + "a/TXT/", """{"subname":"a","type":"TXT","ttl":3600,"records":["\"6\""]}"""),
            (HttpMethod.Put, Rrsets + "zz/TXT/", """{"subname":"zz","type":"TXT","ttl":3600,"records":["\"6\""]}"""),
            (HttpMethod.Patch, Rrsets + "b/TXT/", """{"records":[]}"""),
            (HttpMethod.Delete, Rrsets + "a/TXT/", ""),
            (HttpMethod.Patch, Rrsets, "[" + new string(' ', 4 * 1024 * 1024) + "]"),
        };
        foreach (var (method, url, body) in writes)
        {
            // Past the per-domain 2/s (and within 15/min): each write is decided on its own merits.
            _host.Time.Advance(TimeSpan.FromSeconds(4));
            await dns.SendAsync(new HttpRequestMessage(method, url) { Content = body.Length > 0 ? JsonBody(body) : null });
        }

        await dns.GetAsync(Rrsets + "a/TXT/");
        await dns.GetAsync(Rrsets + "nothing/TXT/");
        for (var i = 0; i < 3; i++)
        {
            await dns.PostAsync(Rrsets, JsonBody($$"""{"subname":"t{{i}}","type":"TXT","ttl":3600,"records":["\"x\""]}"""));
        }

        await dns.DeleteAsync("/api/v1/domains/example.com/");
        await dns.DeleteAsync("/api/v1/domains/missing.example/");
    }
}
