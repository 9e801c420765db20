using System.Text.Json;

namespace Sluice.Server.Tests;

public sealed class OpenApiTests : IAsyncLifetime
{
    private readonly ServerHost _host = new();
    private JsonElement _document;

    public async Task InitializeAsync()
    {
        using var client = _host.Anonymous();
        _document = await ServerHost.Json(await client.GetAsync("/openapi/v1.json"));
    }

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private JsonElement Operation(string path, string method) => _document.GetProperty("paths").GetProperty(path).GetProperty(method);

    private static IEnumerable<string> Headers(JsonElement operation, string status)
        => operation.GetProperty("responses").GetProperty(status).TryGetProperty("headers", out var headers)
            ? headers.EnumerateObject().Select(h => h.Name)
            : [];

    [Theory]
    [InlineData("/api/me", "get")]
    [InlineData("/api/certificates", "post")]
    [InlineData("/api/certificates", "get")]
    [InlineData("/api/certificates/{id}", "get")]
    [InlineData("/api/certificates/bulk", "post")]
    [InlineData("/api/auth/resend-verification-public", "post")]
    [InlineData("/healthz", "get")]
    [InlineData("/admin/accounts", "post")]
    [InlineData("/admin/accounts/{id}/keys", "post")]
    [InlineData("/admin/keys/{keyId}", "delete")]
    [InlineData("/admin/keys/{keyId}/limits", "put")]
    [InlineData("/admin/keys/{keyId}/limits", "delete")]
    [InlineData("/admin/accounts/{id}/quota", "put")]
    [InlineData("/admin/accounts/{id}/usage", "get")]
    [InlineData("/api/v1/domains", "get")]
    [InlineData("/api/v1/domains", "post")]
    [InlineData("/api/v1/domains/{name}", "get")]
    [InlineData("/api/v1/domains/{name}", "delete")]
    [InlineData("/api/v1/domains/{name}/rrsets", "get")]
    [InlineData("/api/v1/domains/{name}/rrsets", "patch")]
    [InlineData("/api/v1/domains/{name}/rrsets/{path}", "put")]
    public void EveryEndpoint_IsDescribed(string path, string method) => Assert.Equal(JsonValueKind.Object, Operation(path, method).ValueKind);

    [Fact]
    public void ApiKeyEndpoints_Document401_429WithRetryAfter_AndTheRateLimitHeaders()
    {
        var me = Operation("/api/me", "get");

        Assert.Contains("X-RateLimit-Limit", Headers(me, "200"));
        Assert.Contains("X-RateLimit-Remaining", Headers(me, "200"));
        Assert.Contains("X-RateLimit-Reset", Headers(me, "200"));
        Assert.True(me.GetProperty("responses").TryGetProperty("401", out _));
        Assert.Contains("Retry-After", Headers(me, "429"));
    }

    [Fact]
    public void QuotaEndpoints_Document403_AndTheQuotaHeaders()
    {
        var issue = Operation("/api/certificates", "post");

        Assert.Contains("X-Quota-Limit", Headers(issue, "403"));
        Assert.Contains("X-Quota-Remaining", Headers(issue, "201"));
        Assert.Contains("X-Quota-Reset", Headers(issue, "201"));
    }

    [Fact]
    public void ExemptEndpoints_DocumentNo429()
    {
        Assert.False(Operation("/api/certificates/bulk", "post").GetProperty("responses").TryGetProperty("429", out _));
        Assert.False(Operation("/healthz", "get").GetProperty("responses").TryGetProperty("429", out _));
        Assert.True(Operation("/api/auth/resend-verification-public", "post").GetProperty("responses").TryGetProperty("429", out _));
    }

    [Theory]
    [InlineData("/api/v1/domains/{name}/rrsets", "post")]
    [InlineData("/api/v1/domains/{name}/rrsets/{path}", "patch")]
    [InlineData("/api/v1/domains", "post")]
    public void DnsEndpoints_DocumentDeSecsBodies_NotProblemDetails(string path, string method)
    {
        var responses = Operation(path, method).GetProperty("responses");

        foreach (var status in new[] { "429", "401", "400" })
        {
            var content = responses.GetProperty(status).GetProperty("content");
            Assert.Equal(["application/json"], content.EnumerateObject().Select(c => c.Name));
        }

        var throttled = responses.GetProperty("429");
        Assert.Equal("string", throttled.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("properties").GetProperty("detail").GetProperty("type").GetString());
        Assert.Contains("Retry-After", Headers(Operation(path, method), "429"));
        Assert.Contains("Request was throttled.", throttled.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DeletingADomain_DocumentsNo404_ForAMissingDomainAnswers204()
    {
        Assert.False(Operation("/api/v1/domains/{name}", "delete").GetProperty("responses").TryGetProperty("404", out _));
        Assert.True(Operation("/api/v1/domains/{name}/rrsets/{path}", "delete").GetProperty("responses").TryGetProperty("404", out _));
    }

    [Fact]
    public void DnsReads_DocumentNo400_ButThePaginationOneOnLists()
    {
        Assert.False(Operation("/api/v1/domains/{name}", "get").GetProperty("responses").TryGetProperty("400", out _));
        foreach (var list in new[] { "/api/v1/domains", "/api/v1/domains/{name}/rrsets" })
        {
            var operation = Operation(list, "get");
            Assert.Contains("Pagination required", operation.GetProperty("responses").GetProperty("400").GetProperty("description").GetString(), StringComparison.Ordinal);
            Assert.True(operation.GetProperty("responses").GetProperty("200").GetProperty("headers").TryGetProperty("Link", out _));
            Assert.Contains(operation.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "cursor" && p.GetProperty("in").GetString() == "query");
        }
    }
}
