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

    private sealed class Answer(HttpStatusCode status, string body, string mediaType) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) });
    }
}
