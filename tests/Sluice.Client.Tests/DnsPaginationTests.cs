using System.Net;
using System.Text;
using Sluice.Client.Dns;

namespace Sluice.Client.Tests;

/// <summary>The DNS client reads every page of deSEC's paginated lists (the reference server with a page of 3).</summary>
public sealed class DnsPaginationTests : IAsyncLifetime
{
    private readonly ReferenceServer _server = new(new() { ["Dns:PageSize"] = "3" });
    private readonly List<string> _sent = [];
    private DnsApiClient _dns = null!;

    public async Task InitializeAsync()
    {
        var wire = new Recording(_sent) { InnerHandler = _server.Transport() };
        var http = new HttpClient(new SluiceClientHandler(new SluiceClientOptions { Registry = new PacerRegistry() }, wire)) { BaseAddress = _server.BaseAddress };
        _dns = new DnsApiClient(http, await _server.NewKeyAsync());
        await _dns.CreateDomainAsync("example.com");
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task ListRRsets_ReadsEveryPage_InOrder_OneRequestPerPage()
    {
        var names = new[] { "g", "f", "e", "d", "c", "b", "a" };
        await _dns.WriteRRsetsAsync("example.com", [.. names.Select(n => new RRsetWrite(n, "TXT", 3600, ["\"v\""]))]);
        _sent.Clear();

        var listed = await _dns.ListRRsetsAsync("example.com");

        Assert.Equal(names.Order(), listed.Select(r => r.Subname));
        Assert.Equal(3, _sent.Count);
        Assert.EndsWith("/rrsets/?cursor=", _sent[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListRRsets_KeepsItsFilters_OnEveryPage()
    {
        await _dns.WriteRRsetsAsync("example.com", [.. Enumerable.Range(0, 5).SelectMany(i => new[] { new RRsetWrite($"n{i}", "TXT", 3600, ["\"v\""]), new RRsetWrite($"n{i}", "A", 3600, ["192.0.2.1"]) })]);

        var listed = await _dns.ListRRsetsAsync("example.com", type: "A");

        Assert.Equal(5, listed.Count);
        Assert.All(listed, r => Assert.Equal("A", r.Type));
    }

    [Fact]
    public async Task ListDomains_ReadsEveryPage()
    {
        foreach (var name in new[] { "a.example", "b.example", "c.example" })
        {
            await _dns.CreateDomainAsync(name);
        }

        var listed = await _dns.ListDomainsAsync();

        Assert.Equal(["a.example", "b.example", "c.example", "example.com"], listed.Select(d => d.Name));
    }

    [Fact]
    public async Task ANextPageOnAnotherHost_IsNotRequested_AndTheListFails()
    {
        var seen = new List<string>();
        using var http = new HttpClient(new Paging(seen, _ => "http://elsewhere.example/api/v1/domains/example.com/rrsets/?cursor=x")) { BaseAddress = new Uri("http://127.0.0.1:9/") };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new DnsApiClient(http, "secret").ListRRsetsAsync("example.com"));

        Assert.Contains("elsewhere.example", error.Message, StringComparison.Ordinal);
        Assert.Equal(["http://127.0.0.1:9/api/v1/domains/example.com/rrsets/?cursor="], seen);
    }

    [Fact]
    public async Task ANextPageThatWasAlreadyRead_StopsTheList_InsteadOfLoopingForever()
    {
        var seen = new List<string>();
        using var http = new HttpClient(new Paging(seen, _ => "http://127.0.0.1:9/api/v1/domains/example.com/rrsets/?cursor=again")) { BaseAddress = new Uri("http://127.0.0.1:9/") };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new DnsApiClient(http).ListRRsetsAsync("example.com"));
        Assert.Contains("already read", error.Message, StringComparison.Ordinal);

        Assert.Equal(2, seen.Count);
    }

    private sealed class Recording(List<string> sent) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (sent)
            {
                sent.Add(request.RequestUri!.PathAndQuery);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Answers every request with an empty page whose next page is <paramref name="next"/>'s.</summary>
    private sealed class Paging(List<string> seen, Func<Uri, string> next) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add(request.RequestUri!.AbsoluteUri);
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("[]", Encoding.UTF8, "application/json") };
            response.Headers.TryAddWithoutValidation("Link", $"<http://127.0.0.1:9/api/v1/domains/example.com/rrsets/?cursor=>; rel=\"first\", <{next(request.RequestUri)}>; rel=\"next\"");
            return Task.FromResult(response);
        }
    }
}
