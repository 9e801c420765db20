using System.Net;

namespace Sluice.AspNetCore.Tests.Keys;

public sealed class ApiKeyTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Sluice:Layers:api-key:Key"] = "ApiKey",
        ["Sluice:Layers:api-key:Rates:0"] = "1/min",
    };

    private static async Task<HttpResponseMessage> Get(TestApp app, string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ping");
        request.Headers.TryAddWithoutValidation(header, value);
        return await app.Client.SendAsync(request);
    }

    [Fact]
    public async Task BearerTokenAndXApiKey_NameTheSameKey()
    {
        await using var app = await TestApp.StartAsync(Settings);

        var bearer = await Get(app, "Authorization", "Bearer abc123");
        var token = await Get(app, "Authorization", "Token abc123");
        var header = await Get(app, "X-API-Key", "abc123");
        var other = await Get(app, "X-API-Key", "zzz");

        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, token.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, header.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task ARequestWithoutAKey_SkipsTheLayer()
    {
        await using var app = await TestApp.StartAsync(Settings);

        var responses = new[] { await app.GetAsync("/ping"), await app.GetAsync("/ping"), await Get(app, "Authorization", "Basic dXNlcjpwYXNz") };

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(responses, r => Assert.False(r.Headers.Contains("X-RateLimit-Limit")));
    }
}
