using Microsoft.Extensions.Primitives;
using Sluice.AspNetCore;

namespace Sluice.Server.Api;

/// <summary>
/// Behind a proxy that terminates TLS or serves the API under another host or path, the absolute URLs the server writes
/// (the DNS lists' <c>Link</c> pages) must name the origin the client used. A request whose connection comes from a
/// trusted proxy (<see cref="SluiceLimits.IsTrustedProxy"/>: <c>Sluice:ClientIp:TrustedProxies</c> as in force, the
/// proxies whose <c>X-Forwarded-For</c> the rate limits already believe) has its scheme, host and path base taken from
/// the last value of <c>X-Forwarded-Proto</c> (<c>http</c> or <c>https</c>), <c>X-Forwarded-Host</c> (a host name or
/// address, with an optional port) and <c>X-Forwarded-Prefix</c> (a path starting with <c>/</c>), each when present and
/// well formed. From any other connection these headers are ignored, so a client cannot make the server write links to
/// a host of its choosing.
/// </summary>
/// <remarks>
/// ASP.NET Core's own forwarded-headers middleware is not used: without <c>X-Forwarded-For</c> processing (which the rate
/// limits do themselves) it applies these headers whatever the connection.
/// </remarks>
internal sealed class ForwardedOriginMiddleware(RequestDelegate next, SluiceLimits sluice)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Connection.RemoteIpAddress is { } remote && sluice.IsTrustedProxy(remote))
        {
            Apply(context.Request);
        }

        return next(context);
    }

    private static void Apply(HttpRequest request)
    {
        if (Last(request.Headers["X-Forwarded-Proto"]) is { } scheme
            && (scheme.Equals("https", StringComparison.OrdinalIgnoreCase) || scheme.Equals("http", StringComparison.OrdinalIgnoreCase)))
        {
            request.Scheme = scheme.ToLowerInvariant();
        }

        if (Last(request.Headers["X-Forwarded-Host"]) is { } host && IsHost(host))
        {
            request.Host = HostString.FromUriComponent(host);
        }

        if (Last(request.Headers["X-Forwarded-Prefix"]) is { } prefix && prefix.StartsWith('/') && !prefix.StartsWith("//", StringComparison.Ordinal))
        {
            request.PathBase = PathString.FromUriComponent(prefix.TrimEnd('/'));
        }
    }

    /// <summary>The last (rightmost) comma-separated value: the one the nearest proxy added.</summary>
    private static string? Last(StringValues values)
    {
        if (values.Count == 0 || values[^1] is not { } last)
        {
            return null;
        }

        var value = last[(last.LastIndexOf(',') + 1)..].Trim();
        return value.Length > 0 ? value : null;
    }

    /// <summary>A host name, IPv4 address or bracketed IPv6 address, with an optional port: what a URL's authority holds, without user information.</summary>
    private static bool IsHost(string host)
        => Uri.TryCreate($"http://{host}/", UriKind.Absolute, out var uri)
            && string.IsNullOrEmpty(uri.UserInfo)
            && uri.AbsolutePath == "/"
            && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment)
            && host.AsSpan().IndexOfAny("/?#@\\ ") < 0;
}
