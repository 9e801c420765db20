using System.Net;
using System.Text;
using Sluice.Client.Dns;

namespace Sluice.Client.Tests;

/// <summary>The DNS API client's errors, as servers and the proxies in front of them answer.</summary>
public sealed class DnsApiClientTests
{
    private static DnsApiClient Answering(HttpStatusCode status, string body, string mediaType)
        => new(new HttpClient(new Answer(status, body, mediaType)) { BaseAddress = new Uri("http://127.0.0.1:9/") }, "token");

    [Fact]
    public async Task AnErrorThatIsNotJson_SuchAsAProxysPage_IsADnsApiException_WithTheBody_AndNoFieldErrors()
    {
        var client = Answering(HttpStatusCode.BadGateway, "<html><body>502 Bad Gateway</body></html>", "text/html");

        var error = await Assert.ThrowsAsync<DnsApiException>(() => client.CreateDomainAsync("example.com"));

        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Contains("502 Bad Gateway", error.Body, StringComparison.Ordinal);
        Assert.Empty(error.Errors);
        Assert.Null(error.ItemErrors);
    }

    [Fact]
    public async Task DeSecsFieldErrors_AreReadPerField_AndABulkRequestsPerItem()
    {
        var single = Answering(HttpStatusCode.BadRequest, """{"ttl":["A valid integer is required."],"detail":"x"}""", "application/json");
        var bulk = Answering(HttpStatusCode.BadRequest, """[{},{"records":["bad"]}]""", "application/json");

        var one = await Assert.ThrowsAsync<DnsApiException>(() => single.WriteRRsetAsync("example.com", new RRsetWrite("a", "TXT", 1, ["\"v\""])));
        var many = await Assert.ThrowsAsync<DnsApiException>(() => bulk.WriteRRsetsAsync("example.com", [new RRsetWrite("a", "TXT", 3600, ["\"v\""]), new RRsetWrite("b", "A", 3600, ["bad"])]));

        Assert.Equal(["A valid integer is required."], one.Errors["ttl"]);
        Assert.Equal(["x"], one.Errors["detail"]);
        Assert.Empty(many.ItemErrors![0]);
        Assert.Equal(["bad"], many.ItemErrors[1]["records"]);
    }

    [Fact]
    public async Task TheToken_IsOnEveryRequestOfTheClient_AndOnNoOtherRequestOfASharedHttpClient()
    {
        var seen = new List<(string Path, string? Authorization)>();
        using var http = new HttpClient(new Recording(seen)) { BaseAddress = new Uri("http://127.0.0.1:9/") };
        var dns = new DnsApiClient(http, "secret-token");

        await dns.GetDomainAsync("example.com");
        await dns.CreateDomainAsync("example.com");
        await dns.ListRRsetsAsync("example.com", subname: "a");
        await dns.WriteRRsetsAsync("example.com", [new RRsetWrite("a", "TXT", 3600, ["\"v\""])]);
        await dns.DeleteDomainAsync("example.com");
        await http.GetAsync("elsewhere");

        Assert.Equal(5, seen.Count(r => r.Authorization == "Token secret-token"));
        Assert.Equal(("/elsewhere", null), seen[^1]);
        Assert.Null(http.DefaultRequestHeaders.Authorization);
    }

    [Fact]
    public async Task WithoutAToken_TheHttpClientsOwnAuthorization_IsSent()
    {
        var seen = new List<(string Path, string? Authorization)>();
        using var http = new HttpClient(new Recording(seen)) { BaseAddress = new Uri("http://127.0.0.1:9/") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Token", "from-the-client");

        await new DnsApiClient(http).ListRRsetsAsync("example.com");

        Assert.Equal("Token from-the-client", Assert.Single(seen).Authorization);
    }

    private sealed class Recording(List<(string Path, string? Authorization)> seen) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add((request.RequestUri!.AbsolutePath, request.Headers.Authorization?.ToString()));
            var body = (request.Method == HttpMethod.Get && request.RequestUri.AbsolutePath.EndsWith("/rrsets/", StringComparison.Ordinal)) || request.Method == HttpMethod.Patch
                ? "[]"
                : """{"name":"example.com"}""";
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        }
    }

    private sealed class Answer(HttpStatusCode status, string body, string mediaType) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) });
    }
}
