using System.Net;
using System.Text;
using System.Text.Json;

namespace Sluice.Server.Tests;

public sealed class ErrorBodyTests : IAsyncLifetime
{
    private readonly ServerHost _host = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Theory]
    [InlineData("GET", "/api/nothing-here", null, 404, "NOT_FOUND")]
    [InlineData("GET", "/api/certificates/99999999999999999999", null, 404, "NOT_FOUND")]
    [InlineData("POST", "/api/certificates", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE")]
    [InlineData("DELETE", "/api/me", null, 405, "METHOD_NOT_ALLOWED")]
    public async Task ErrorsWithoutABody_GetAProblemWithACode(string method, string path, string? type, int status, string code)
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = type is null ? null : new StringContent("x", Encoding.UTF8, type) };

        var response = await client.SendAsync(request);
        var body = await ServerHost.Json(response);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(code, body.GetProperty("code").GetString());
    }

    [Fact]
    public async Task OnTheDnsApi_TheyGetDeSecsDetailShape()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        using var request = new HttpRequestMessage(HttpMethod.Patch, "/api/v1/domains/example.com/rrsets/") { Content = new StringContent("[]", Encoding.UTF8, "text/plain") };

        var response = await client.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("Unsupported media type \"text/plain; charset=utf-8\" in request.", body.RootElement.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("DELETE", "/api/v1/domains/example.com/rrsets/")]
    [InlineData("POST", "/api/v1/domains/example.com/rrsets/a/TXT/")]
    [InlineData("PATCH", "/api/v1/domains/")]
    public async Task AMethodARouteDoesNotTake_Gets405_WithDeSecsMessage(string method, string path)
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal($$"""{"detail":"Method \"{{method}}\" not allowed."}""", await response.Content.ReadAsStringAsync());
    }
}
