using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Server.Tests;

/// <summary>Whatever answers GET answers HEAD: the same status and headers, no body, counted as a read.</summary>
public sealed class HeadRequestTests : IAsyncLifetime
{
    // On Kestrel: it is the server that leaves a HEAD answer's body out.
    private readonly ServerHost _host = new(kestrel: true);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private static HttpRequestMessage Head(string path) => new(HttpMethod.Head, path);

    [Fact]
    public void EveryEndpointThatAnswersGet_AlsoAnswersHead()
    {
        var endpoints = _host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        var methods = endpoints
            .Select(e => (e.RoutePattern.RawText, Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []))
            .Where(e => e.Methods.Contains(HttpMethods.Get))
            .ToList();

        Assert.Contains(methods, e => e.RawText == "/healthz");
        Assert.Contains(methods, e => e.RawText == "/api/v1/domains/{name}/rrsets/{**path}");
        Assert.All(methods, e => Assert.Contains(HttpMethods.Head, e.Methods));
        Assert.DoesNotContain(endpoints, e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { } m && m.Contains(HttpMethods.Head) && !m.Contains(HttpMethods.Get));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/api/me")]
    [InlineData("/api/certificates")]
    [InlineData("/api/certificates/424242")]
    [InlineData("/api/v1/domains/")]
    [InlineData("/api/v1/domains/absent.example/rrsets/")]
    public async Task AHead_GetsTheStatusAndContentTypeOfItsGet_AndNoBody(string path)
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var get = await client.GetAsync(path);
        var head = await client.SendAsync(Head(path));

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AHead_CountsAgainstTheLimits_AndCarriesTheRateLimitHeaders()
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var head = await client.SendAsync(Head("/api/me"));
        var get = await client.GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("60", head.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("59", head.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal("58", get.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task AHeadWithoutAKey_Is401_AsItsGetIs()
    {
        var head = await _host.Anonymous().SendAsync(Head("/api/v1/domains/"));

        Assert.Equal(HttpStatusCode.Unauthorized, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AHeadWhereOnlyOtherMethodsAreAnswered_Is405_ListingThem()
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var head = await client.SendAsync(Head("/api/certificates/bulk"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.Equal(["POST"], head.Content.Headers.Allow);
    }

    [Fact]
    public async Task TheOpenApiDocument_ListsTheGetOperations_AndNoHead()
    {
        var document = await ServerHost.Json(await _host.Anonymous().GetAsync("/openapi/v1.json"));

        var operations = document.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(o => o.Name)).ToList();

        Assert.Contains("get", operations);
        Assert.DoesNotContain("head", operations);
    }
}
