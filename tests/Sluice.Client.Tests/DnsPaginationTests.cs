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
    public async Task ListRRsets_ReadsEveryPage_OneRequestPerPage()
    {
        var names = new[] { "g", "f", "e", "d", "c", "b", "a" };
        await _dns.WriteRRsetsAsync("example.com", [.. names.Select(n => new RRsetWrite(n, "TXT", 3600, ["\"v\""]))]);
        _sent.Clear();

        var listed = await _dns.ListRRsetsAsync("example.com");

        // Every RRset once (the server lists them newest first; one bulk request creates them together).
        Assert.Equal(names.Order(), listed.Select(r => r.Subname).Order());
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

        Assert.Equal(["c.example", "b.example", "a.example", "example.com"], listed.Select(d => d.Name));
    }

    [Fact]
    public async Task GetResponsibleDomain_FindsTheDeepestDomainHoldingAName_InOneRequest()
    {
        foreach (var name in new[] { "dev.example.com", "git.dev.example.com", "a.example", "b.example" })
        {
            await _dns.CreateDomainAsync(name);
        }

        _sent.Clear();
        var challenge = await _dns.GetResponsibleDomainAsync("_acme-challenge.www.dev.example.com");
        var apex = await _dns.GetResponsibleDomainAsync("example.com");
        var none = await _dns.GetResponsibleDomainAsync("www.example.org");

        Assert.Equal("dev.example.com", challenge?.Name);
        Assert.Equal("example.com", apex?.Name);
        Assert.Null(none);
        Assert.Equal(3, _sent.Count);
        Assert.EndsWith("/api/v1/domains/?owns_qname=_acme-challenge.www.dev.example.com", _sent[0], StringComparison.Ordinal);
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

    [Fact]
    public async Task BehindAProxyThatServesTheApiUnderAnotherOrigin_EveryPageIsRead()
    {
        // The proxy (at 127.0.0.1, trusted) answers https://dns.example/desec/ and forwards to the server at http://localhost/.
        await using var server = new ReferenceServer(new() { ["Dns:PageSize"] = "3", ["Sluice:ClientIp:TrustedProxies:0"] = "127.0.0.1" });
        var proxy = new Proxy(new Uri("https://dns.example/desec/"), server.BaseAddress) { InnerHandler = server.Transport(IPAddress.Loopback) };
        var http = new HttpClient(new SluiceClientHandler(new SluiceClientOptions { Registry = new PacerRegistry() }, proxy)) { BaseAddress = new Uri("https://dns.example/desec/") };
        var dns = new DnsApiClient(http, await server.NewKeyAsync());
        await dns.CreateDomainAsync("example.com");
        await dns.WriteRRsetsAsync("example.com", [.. Enumerable.Range(0, 7).Select(i => new RRsetWrite($"n{i}", "TXT", 3600, ["\"v\""]))]);

        var listed = await dns.ListRRsetsAsync("example.com");

        Assert.Equal(7, listed.Count);
        Assert.Equal(3, proxy.Forwarded.Count(p => p.Contains("/rrsets/?cursor=", StringComparison.Ordinal)));
    }

    /// <summary>A reverse proxy: takes requests for <c>outside</c>, sends them to <c>inside</c> with the X-Forwarded-* headers a proxy adds.</summary>
    private sealed class Proxy(Uri outside, Uri inside) : DelegatingHandler
    {
        public List<string> Forwarded { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            Assert.True(outside.IsBaseOf(uri), $"The client left the proxy's origin: {uri}");
            request.RequestUri = new Uri(inside, outside.MakeRelativeUri(uri));
            request.Headers.Add("X-Forwarded-Proto", outside.Scheme);
            request.Headers.Add("X-Forwarded-Host", outside.Authority);
            request.Headers.Add("X-Forwarded-Prefix", outside.AbsolutePath.TrimEnd('/'));
            Forwarded.Add(request.RequestUri.PathAndQuery);
            var response = await base.SendAsync(request, cancellationToken);

            // The client sees its own request, as it would through a real proxy.
            request.RequestUri = uri;
            response.RequestMessage = request;
            return response;
        }
    }
}
