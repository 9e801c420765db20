using System.Net;
using Microsoft.AspNetCore.Http;
using Sluice.AspNetCore.Keys;

namespace Sluice.AspNetCore.Tests.Keys;

public sealed class ClientIpKeyTests
{
    private static Dictionary<string, string?> OnePerMinutePerIp(params string[] trusted)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:RateLimitHeaders"] = "false",
            ["Sluice:Layers:global-ip:Key"] = "Ip",
            ["Sluice:Layers:global-ip:Rates:0"] = "1/min",
        };
        for (var i = 0; i < trusted.Length; i++)
        {
            settings[$"Sluice:ClientIp:TrustedProxies:{i}"] = trusted[i];
        }

        return settings;
    }

    private static async Task<HttpStatusCode> Get(TestApp app, string remote, string? forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ping");
        request.Headers.TryAddWithoutValidation(TestApp.RemoteHeader, remote);
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        return (await app.Client.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task ForwardedFor_FromATrustedProxy_KeysByTheClient()
    {
        await using var app = await TestApp.StartAsync(OnePerMinutePerIp("10.0.0.0/8"));

        var clientA = await Get(app, "10.1.2.3", "198.51.100.7");
        var clientB = await Get(app, "10.1.2.3", "198.51.100.8");
        var clientAAgain = await Get(app, "10.9.9.9", "198.51.100.7, 10.0.0.5");

        Assert.Equal(HttpStatusCode.OK, clientA);
        Assert.Equal(HttpStatusCode.OK, clientB);
        Assert.Equal(HttpStatusCode.TooManyRequests, clientAAgain);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BehindAspNetCoresForwardedHeadersMiddleware_TheClientItResolved_IsTheKey(bool trustedInSluiceToo)
    {
        // UseForwardedHeaders before UseSluice has already put the client in the connection's remote address; Sluice's
        // own trusted proxies may stay empty, and listing the proxy there as well changes nothing.
        await using var app = await TestApp.StartAsync(
            trustedInSluiceToo ? OnePerMinutePerIp("10.0.0.5") : OnePerMinutePerIp(),
            services: s => s.Configure<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>(o =>
            {
                o.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor;
                o.KnownProxies.Add(IPAddress.Parse("10.0.0.5"));
            }),
            beforeSluice: a => a.UseForwardedHeaders());

        var clientA = await Get(app, "10.0.0.5", "198.51.100.7");
        var clientB = await Get(app, "10.0.0.5", "198.51.100.8");
        var clientAAgain = await Get(app, "10.0.0.5", "198.51.100.7");
        var spoofedByAStranger = await Get(app, "203.0.113.9", "198.51.100.8");

        Assert.Equal(HttpStatusCode.OK, clientA);
        Assert.Equal(HttpStatusCode.OK, clientB);
        Assert.Equal(HttpStatusCode.TooManyRequests, clientAAgain);
        Assert.Equal(HttpStatusCode.OK, spoofedByAStranger);
    }

    [Fact]
    public async Task TheStandardForwardedHeader_IsReadByItsForParameters()
    {
        var settings = OnePerMinutePerIp("10.0.0.0/8");
        settings["Sluice:ClientIp:ForwardedHeader"] = "Forwarded";
        await using var app = await TestApp.StartAsync(settings);

        async Task<HttpStatusCode> Send(string forwarded)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/ping");
            request.Headers.TryAddWithoutValidation(TestApp.RemoteHeader, "10.1.2.3");
            request.Headers.TryAddWithoutValidation("Forwarded", forwarded);
            return (await app.Client.SendAsync(request)).StatusCode;
        }

        // RFC 7239: for= among other parameters, quoted IPv6 with a port, and a proxy's own hop after the client's.
        var v4 = await Send("for=198.51.100.7;proto=https;by=10.0.0.1");
        var v6 = await Send("For=\"[2001:db8:cafe::17]:4711\"");
        var v4Again = await Send("for=198.51.100.7, for=10.0.0.5;proto=http");
        var other = await Send("proto=https;for=198.51.100.8");
        var v6Again = await Send("for=\"[2001:db8:cafe::17]\"");

        Assert.Equal(HttpStatusCode.OK, v4);
        Assert.Equal(HttpStatusCode.OK, v6);
        Assert.Equal(HttpStatusCode.TooManyRequests, v4Again);
        Assert.Equal(HttpStatusCode.OK, other);
        Assert.Equal(HttpStatusCode.TooManyRequests, v6Again);
    }

    [Fact]
    public async Task ForwardedFor_FromAnUntrustedPeer_IsIgnored()
    {
        await using var app = await TestApp.StartAsync(OnePerMinutePerIp("10.0.0.0/8"));

        var first = await Get(app, "203.0.113.5", "198.51.100.1");
        var spoofed = await Get(app, "203.0.113.5", "198.51.100.2");

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal(HttpStatusCode.TooManyRequests, spoofed);
    }

    [Fact]
    public async Task ForwardedFor_WithNoTrustedProxies_IsNeverBelieved()
    {
        await using var app = await TestApp.StartAsync(OnePerMinutePerIp());

        var first = await Get(app, "10.1.2.3", "198.51.100.1");
        var second = await Get(app, "10.1.2.3", "198.51.100.2");

        Assert.Equal(HttpStatusCode.TooManyRequests, second);
        Assert.Equal(HttpStatusCode.OK, first);
    }

    [Fact]
    public async Task ExemptAddressesAndNetworks_SkipTheIpLayer_ForTheClientResolvedThroughTrustedProxies()
    {
        var settings = OnePerMinutePerIp("10.0.0.0/8");
        settings["Sluice:Layers:global-ip:Exempt:0"] = "192.0.2.0/24";
        settings["Sluice:Layers:global-ip:Exempt:1"] = "198.51.100.7";
        await using var app = await TestApp.StartAsync(settings);

        var monitor = new[] { await Get(app, "192.0.2.10", null), await Get(app, "192.0.2.10", null), await Get(app, "192.0.2.11", null) };
        var forwarded = new[] { await Get(app, "10.1.2.3", "198.51.100.7"), await Get(app, "10.1.2.3", "198.51.100.7") };
        var proxyItself = new[] { await Get(app, "10.1.2.3", null), await Get(app, "10.1.2.3", null) };
        var spoofed = new[] { await Get(app, "203.0.113.5", "192.0.2.10"), await Get(app, "203.0.113.5", "192.0.2.10") };

        Assert.All(monitor, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(forwarded, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], proxyItself);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], spoofed);
    }

    [Fact]
    public async Task AnExemptIPv6Network_CoversClientsGroupedBy64()
    {
        var settings = OnePerMinutePerIp();
        settings["Sluice:ClientIp:GroupIPv6By64"] = "true";
        settings["Sluice:Layers:global-ip:Exempt:0"] = "2001:db8:1::/48";
        await using var app = await TestApp.StartAsync(settings);

        var inside = new[] { await Get(app, "2001:db8:1:2::1", null), await Get(app, "2001:db8:1:2::1", null) };
        var outside = new[] { await Get(app, "2001:db8:2:2::1", null), await Get(app, "2001:db8:2:2::1", null) };

        Assert.All(inside, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], outside);
    }

    [Fact]
    public async Task IPv6Clients_CanBeGroupedBy64()
    {
        var settings = OnePerMinutePerIp();
        settings["Sluice:ClientIp:GroupIPv6By64"] = "true";
        await using var app = await TestApp.StartAsync(settings);

        var first = await Get(app, "2001:db8:1:2::1", null);
        var sameNetwork = await Get(app, "2001:db8:1:2:ffff::9", null);
        var otherNetwork = await Get(app, "2001:db8:1:3::1", null);

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal(HttpStatusCode.TooManyRequests, sameNetwork);
        Assert.Equal(HttpStatusCode.OK, otherNetwork);
    }

    [Fact]
    public async Task IPv4MappedAddresses_CountAsTheirIPv4Address()
    {
        await using var app = await TestApp.StartAsync(OnePerMinutePerIp());

        var v4 = await Get(app, "192.0.2.44", null);
        var mapped = await Get(app, "::ffff:192.0.2.44", null);

        Assert.Equal(HttpStatusCode.OK, v4);
        Assert.Equal(HttpStatusCode.TooManyRequests, mapped);
    }

    [Theory]
    [InlineData("192.0.2.44", "192.0.2.44")]
    [InlineData("::ffff:192.0.2.44", "192.0.2.44")]
    [InlineData("::ffff:0.0.0.0", "0.0.0.0")]
    [InlineData("::ffff:255.255.255.255", "255.255.255.255")]
    [InlineData("::ffff:10.200.3.40", "10.200.3.40")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    public void TheKey_OfADirectClient_IsItsAddressText_WithMappedAddressesAsIPv4(string remote, string expected)
    {
        var selector = new ClientIpKeySelector([], "X-Forwarded-For", groupIPv6: false);

        Assert.Equal(expected, selector.Select(Context(remote, null)));
    }

    [Fact]
    public void TheKey_OfAMappedAddress_IsMadeOncePerAddressObject()
    {
        var selector = new ClientIpKeySelector([], "X-Forwarded-For", groupIPv6: false);
        var connection = Context("::ffff:192.0.2.44", null);
        var otherConnection = Context("::ffff:192.0.2.44", null);

        var first = selector.Select(connection);
        var again = selector.Select(connection);
        var other = selector.Select(otherConnection);

        Assert.Same(first, again);
        Assert.Equal("192.0.2.44", other);
        Assert.NotSame(first, other);
    }

    [Theory]
    [InlineData("198.51.100.7", "198.51.100.7")]
    [InlineData("198.51.100.7, 10.0.0.5", "198.51.100.7")]
    [InlineData("  198.51.100.7 ,10.0.0.5 ,  10.0.0.6  ", "198.51.100.7")]
    [InlineData("203.0.113.9, 198.51.100.7, 10.0.0.5", "198.51.100.7")]
    [InlineData("198.51.100.7:4711", "198.51.100.7")]
    [InlineData("[2001:db8::7]:443, 10.0.0.5", "2001:db8::7")]
    [InlineData("2001:db8::7", "2001:db8::7")]
    [InlineData("::ffff:198.51.100.7", "198.51.100.7")]
    [InlineData("198.51.100.7,,, ", "198.51.100.7")]
    [InlineData("10.0.0.9, 10.0.0.5", "10.0.0.9")]
    [InlineData("198.51.100.7, not-an-address, 10.0.0.5", "10.0.0.5")]
    [InlineData("not-an-address", "10.1.2.3")]
    [InlineData("", "10.1.2.3")]
    public void TheKey_BehindATrustedProxy_IsTheFirstUntrustedHopFromTheRight(string forwardedFor, string expected)
    {
        var selector = new ClientIpKeySelector([IPNetwork.Parse("10.0.0.0/8")], "X-Forwarded-For", groupIPv6: false);

        Assert.Equal(expected, selector.Select(Context("10.1.2.3", forwardedFor)));
    }

    [Fact]
    public void TheKey_BehindATrustedProxy_ReadsSeveralHeaderValuesFromTheLast()
    {
        var selector = new ClientIpKeySelector([IPNetwork.Parse("10.0.0.0/8")], "X-Forwarded-For", groupIPv6: false);
        var context = Context("10.1.2.3", null);
        context.Request.Headers["X-Forwarded-For"] = new Microsoft.Extensions.Primitives.StringValues(["198.51.100.1, 198.51.100.2", "10.0.0.7", ""]);

        Assert.Equal("198.51.100.2", selector.Select(context));
    }

    [Theory]
    [InlineData("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("192.0.2.1", "192.0.2.1")]
    public void TheKey_OfAnIPv6Client_IsItsSlash64_WhenGrouped(string remote, string expected)
    {
        var selector = new ClientIpKeySelector([], "X-Forwarded-For", groupIPv6: true);

        Assert.Equal(expected, selector.Select(Context(remote, null)));
    }

    private static DefaultHttpContext Context(string remote, string? forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        if (forwardedFor is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        return context;
    }
}
