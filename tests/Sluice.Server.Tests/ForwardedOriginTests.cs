using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Server.Tests;

/// <summary>
/// Behind a trusted proxy the DNS lists' page links name the origin the client used (the test host's requests come from
/// 127.0.0.1, the proxy here); from anyone else the forwarding headers change nothing.
/// </summary>
public sealed class ForwardedOriginTests
{
    private const string RRsets = "/api/v1/domains/example.com/rrsets/";

    private static async Task<(ServerHost Host, HttpClient Client)> StartAsync(string? trustedProxy)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dns:PageSize"] = "1",
            ["Sluice:Layers:dns_api_per_domain_expensive:Rates:0"] = "100/s",
        };
        if (trustedProxy is not null)
        {
            settings["Sluice:ClientIp:TrustedProxies:0"] = trustedProxy;
        }

        var host = new ServerHost(settings);
        var client = await host.NewDnsClientAsync("example.com");
        var write = await client.PatchAsJsonAsync(RRsets, new[] { new { subname = "a", type = "TXT", ttl = 3600, records = new[] { "\"v\"" } }, new { subname = "b", type = "TXT", ttl = 3600, records = new[] { "\"v\"" } } });
        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        return (host, client);
    }

    private static async Task<string> FirstLinkAsync(HttpClient client, params (string Name, string Value)[] forwarded)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, RRsets);
        foreach (var (name, value) in forwarded)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return response.Headers.GetValues("Link").Single();
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.0/8")]
    [InlineData("::ffff:127.0.0.1")]
    public async Task FromATrustedProxy_TheLinksNameTheForwardedSchemeHostAndPrefix(string trustedProxy)
    {
        var (host, client) = await StartAsync(trustedProxy);
        await using var _ = host;

        var link = await FirstLinkAsync(client, ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "dns.example:8443"), ("X-Forwarded-Prefix", "/desec/"));

        Assert.Equal("<https://dns.example:8443/desec/api/v1/domains/example.com/rrsets/?cursor=>; rel=\"first\"", link);
    }

    [Fact]
    public async Task FromATrustedProxy_TheNearestProxysValue_TheLastOne_Counts()
    {
        var (host, client) = await StartAsync("127.0.0.1");
        await using var _ = host;

        var link = await FirstLinkAsync(client, ("X-Forwarded-Proto", "http, https"), ("X-Forwarded-Host", "spoofed.example, dns.example"));

        Assert.Equal("<https://dns.example/api/v1/domains/example.com/rrsets/?cursor=>; rel=\"first\"", link);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("10.0.0.0/8")]
    public async Task FromAConnectionNoTrustedProxyMakes_TheForwardingHeadersAreIgnored(string? trustedProxy)
    {
        var (host, client) = await StartAsync(trustedProxy);
        await using var _ = host;

        var link = await FirstLinkAsync(client, ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Prefix", "/x"));

        Assert.Equal("<http://localhost/api/v1/domains/example.com/rrsets/?cursor=>; rel=\"first\"", link);
    }

    [Fact]
    public async Task TheTrustedProxies_AreReadLive_FromTheConfiguration()
    {
        var (host, client) = await StartAsync("10.0.0.0/8");
        await using var _ = host;
        (string, string)[] forwarded = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "dns.example")];
        var before = await FirstLinkAsync(client, forwarded);

        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        configuration["Sluice:ClientIp:TrustedProxies:0"] = "127.0.0.1";
        configuration.Reload();

        Assert.Equal("<http://localhost/api/v1/domains/example.com/rrsets/?cursor=>; rel=\"first\"", before);
        Assert.Equal("<https://dns.example/api/v1/domains/example.com/rrsets/?cursor=>; rel=\"first\"", await FirstLinkAsync(client, forwarded));
    }

    [Theory]
    [InlineData("X-Forwarded-Proto", "javascript")]
    [InlineData("X-Forwarded-Host", "evil.example/path")]
    [InlineData("X-Forwarded-Host", "user@evil.example")]
    [InlineData("X-Forwarded-Host", "evil.example?q")]
    [InlineData("X-Forwarded-Host", "a b")]
    [InlineData("X-Forwarded-Host", "")]
    [InlineData("X-Forwarded-Prefix", "//evil.example")]
    [InlineData("X-Forwarded-Prefix", "desec")]
    public async Task FromATrustedProxy_AMalformedValue_IsIgnored(string header, string value)
    {
        var (host, client) = await StartAsync("127.0.0.1");
        await using var _ = host;

        var link = await FirstLinkAsync(client, (header, value));

        Assert.Equal("<http://localhost/api/v1/domains/example.com/rrsets/?cursor=>; rel=\"first\"", link);
    }
}
