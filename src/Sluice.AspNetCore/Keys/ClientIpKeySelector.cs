using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>
/// The <c>Ip</c> key: the connection's remote address, unless that address is a trusted proxy, in which case the
/// forwarding header is read right to left and the first address that is not a trusted proxy is the client.
/// IPv4-mapped IPv6 addresses count as IPv4; IPv6 clients may be grouped by /64.
/// </summary>
internal sealed class ClientIpKeySelector : RequestKeySelector
{
    private readonly IPNetwork[] _trusted;
    private readonly string _header;
    private readonly bool _groupIPv6;

    public ClientIpKeySelector(IPNetwork[] trusted, string header, bool groupIPv6)
    {
        _trusted = trusted;
        _header = header;
        _groupIPv6 = groupIPv6;
    }

    /// <summary>Parses <c>10.0.0.0/8</c> or a single address; null when invalid.</summary>
    public static IPNetwork? ParseNetwork(string text)
    {
        if (IPNetwork.TryParse(text, out var network))
        {
            return network;
        }

        if (IPAddress.TryParse(text, out var address))
        {
            address = Normalize(address);
            return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }

        return null;
    }

    public override string? Select(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null)
        {
            return null;
        }

        var client = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        if (_trusted.Length > 0 && IsTrusted(client))
        {
            client = FromForwardedHeader(context, client);
        }

        if (_groupIPv6 && client.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> bytes = stackalloc byte[16];
            client.TryWriteBytes(bytes, out _);
            bytes[8..].Clear();
            return new IPAddress(bytes).ToString() + "/64";
        }

        // IPAddress caches its text, so a connection's address is formatted once.
        return client.ToString();
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private IPAddress FromForwardedHeader(HttpContext context, IPAddress proxy)
    {
        var values = context.Request.Headers[_header];
        var client = proxy;
        for (var v = values.Count - 1; v >= 0; v--)
        {
            var entries = (values[v] ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (var e = entries.Length - 1; e >= 0; e--)
            {
                if (!IPAddress.TryParse(StripPort(entries[e]), out var hop))
                {
                    // A hop we cannot read ends the chain we can believe.
                    return client;
                }

                client = Normalize(hop);
                if (!IsTrusted(client))
                {
                    return client;
                }
            }
        }

        return client;
    }

    private static string StripPort(string entry)
    {
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? entry[1..close] : entry;
        }

        var colon = entry.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && entry.IndexOf(':', colon + 1) < 0 ? entry[..colon] : entry;
    }

    private bool IsTrusted(IPAddress address)
    {
        foreach (var network in _trusted)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
