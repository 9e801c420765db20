using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.AspNetCore;

namespace Sluice.Benchmarks;

/// <summary>
/// One request through the middleware pipeline (a reused <see cref="DefaultHttpContext"/>, 10,000 client IPs and API
/// keys): Sluice with three layers and its headers against ASP.NET Core's rate limiter with the same three limits
/// chained. Limits no run can reach, so that every request is admitted in both. Two more Sluice cases show the
/// deployments where the client address costs more: Kestrel listening on every address (IPv4 clients arrive as
/// IPv4-mapped IPv6 addresses) and a server behind a trusted proxy (the client comes from <c>X-Forwarded-For</c>).
/// </summary>
[MemoryDiagnoser]
public class MiddlewareBenchmarks
{
    private const int Clients = 10_000;
    private const int Unreachable = 1_000_000_000;

    private static readonly IPAddress Proxy = IPAddress.Parse("10.255.0.1");

    private readonly DefaultHttpContext _context = new();
    private IPAddress[] _ips = [];
    private IPAddress[] _mappedIps = [];
    private string[] _forwardedFor = [];
    private RequestDelegate _sluiceBehindProxy = null!;
    private string[] _keys = [];
    private RequestDelegate _sluice = null!;
    private RequestDelegate _peer = null!;
    private RequestDelegate _disabled = null!;
    private RequestDelegate _headersOnly = null!;
    private RequestDelegate _headersAndKeys = null!;
    private Endpoint _sluiceEndpoint = null!;
    private Endpoint _peerEndpoint = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _ips = [.. Enumerable.Range(0, Clients).Select(i => new IPAddress([10, 1, (byte)(i >> 8), (byte)i]))];
        _keys = [.. Enumerable.Range(0, Clients).Select(i => "key-" + i.ToString(CultureInfo.InvariantCulture))];
        _mappedIps = [.. _ips.Select(ip => ip.MapToIPv6())];
        _forwardedFor = [.. _ips.Select(ip => ip.ToString())];
        _sluice = BuildSluice(enabled: true);
        _disabled = BuildSluice(enabled: false);
        _sluiceBehindProxy = BuildSluice(enabled: true, trustedProxy: "10.255.0.0/16");
        _headersOnly = BuildFloor(readKeys: false);
        _headersAndKeys = BuildFloor(readKeys: true);
        _sluiceEndpoint = new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(new RateLimitAttribute("auth")), "auth");
        _peerEndpoint = new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(), "auth");

        var services = new ServiceCollection().AddLogging();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(c => Fixed(c.Connection.RemoteIpAddress!.ToString(), TimeSpan.FromMinutes(1))),
                PartitionedRateLimiter.Create<HttpContext, string>(c => Fixed(c.Request.Headers["X-API-Key"].ToString(), TimeSpan.FromMinutes(1))),
                PartitionedRateLimiter.Create<HttpContext, string>(c => Fixed(c.Connection.RemoteIpAddress!.ToString(), TimeSpan.FromMinutes(15))));
        });
        var peer = new ApplicationBuilder(services.BuildServiceProvider());
        peer.UseRateLimiter();
        peer.Run(_ => Task.CompletedTask);
        _peer = peer.Build();
    }

    [Benchmark(Description = "Sluice, 3 layers + X-RateLimit headers")]
    public Task Sluice() => Invoke(_sluice, _sluiceEndpoint);

    [Benchmark(Description = "ASP.NET Core rate limiter, 3 chained", Baseline = true)]
    public Task AspNetCore() => Invoke(_peer, _peerEndpoint);

    [Benchmark(Description = "Sluice:Enabled=false")]
    public Task Disabled() => Invoke(_disabled, _sluiceEndpoint);

    [Benchmark(Description = "Sluice, IPv4-mapped client addresses")]
    public Task SluiceMapped() => Invoke(_sluice, _sluiceEndpoint, ClientAddress.Mapped);

    [Benchmark(Description = "Sluice, behind a trusted proxy")]
    public Task SluiceBehindProxy() => Invoke(_sluiceBehindProxy, _sluiceEndpoint, ClientAddress.Forwarded);

    [Benchmark(Description = "Floor: only the three headers, constant values")]
    public Task HeadersOnly() => Invoke(_headersOnly, _sluiceEndpoint);

    [Benchmark(Description = "Floor: the endpoint, both keys and the three headers, no decision")]
    public Task HeadersAndKeys() => Invoke(_headersAndKeys, _sluiceEndpoint);

    private static RateLimitPartition<string> Fixed(string key, TimeSpan window)
        => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = Unreachable, Window = window, QueueLimit = 0 });

    private static RequestDelegate BuildSluice(bool enabled, string? trustedProxy = null)
    {
        var services = new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSluice(options =>
        {
            options.Enabled = enabled;
            if (trustedProxy is not null)
            {
                options.ClientIp.TrustedProxies = [trustedProxy];
            }

            options.AddLayer("global-ip", l => { l.Key = "Ip"; l.Rates = [$"{Unreachable}/min"]; });
            options.AddLayer("api-key", l => { l.Key = "ApiKey"; l.Rates = [$"{Unreachable}/min"]; l.Headline = true; });
            options.AddLayer("auth", l => { l.Key = "Ip"; l.Scope = "Endpoint"; l.Rates = [$"{Unreachable}/15min"]; });
        });
        var app = new ApplicationBuilder(services.BuildServiceProvider());
        app.UseSluice();
        app.Run(_ => Task.CompletedTask);
        return app.Build();
    }

    /// <summary>
    /// What any limiter that meets the contract pays before deciding anything: a middleware that writes the
    /// three <c>X-RateLimit-*</c> headers (constant values, so no formatting) and, with <paramref name="readKeys"/>,
    /// first reads the endpoint and both keys (the client IP's text and the <c>X-API-Key</c> header) as any layered
    /// limiter must. The difference to the Sluice case is what the decision and Sluice's own bookkeeping cost.
    /// </summary>
    private static RequestDelegate BuildFloor(bool readKeys)
    {
        var app = new ApplicationBuilder(new ServiceCollection().BuildServiceProvider());
        app.Use((context, next) =>
        {
            if (readKeys && (context.GetEndpoint() is null || context.Connection.RemoteIpAddress!.ToString().Length == 0 || context.Request.Headers["X-API-Key"].Count == 0))
            {
                return Task.CompletedTask;
            }

            var headers = context.Response.Headers;
            headers["X-RateLimit-Limit"] = "1000000000";
            headers["X-RateLimit-Remaining"] = "999999999";
            headers["X-RateLimit-Reset"] = "1795430460";
            return next(context);
        });
        app.Run(_ => Task.CompletedTask);
        return app.Build();
    }

    private Task Invoke(RequestDelegate pipeline, Endpoint endpoint, ClientAddress address = ClientAddress.Direct)
    {
        var i = _next = _next + 1 == Clients ? 0 : _next + 1;
        var context = _context;
        context.Response.Headers.Clear();
        context.Response.StatusCode = 200;
        context.Request.Method = HttpMethods.Post;
        context.Request.Headers["X-API-Key"] = _keys[i];
        if (address == ClientAddress.Forwarded)
        {
            context.Connection.RemoteIpAddress = Proxy;
            context.Request.Headers["X-Forwarded-For"] = _forwardedFor[i];
        }
        else
        {
            context.Connection.RemoteIpAddress = address == ClientAddress.Mapped ? _mappedIps[i] : _ips[i];
        }

        context.SetEndpoint(endpoint);
        return pipeline(context);
    }

    private enum ClientAddress
    {
        Direct,
        Mapped,
        Forwarded,
    }
}
