using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>
/// The <c>Ip</c> key: the connection's remote address, unless that address is a trusted proxy, in which case the
/// forwarding header is read right to left and the first address that is not a trusted proxy is the client.
/// IPv4-mapped IPv6 addresses count as IPv4; IPv6 clients may be grouped by /64.
/// </summary>
internal sealed class ClientIpKeySelector : RequestKeySelector
{
    /// <summary>A client address is not a credential: logs show it as it is.</summary>
    public override bool KeyIsSecret => false;

    /// <summary>The IPv4 text of each IPv4-mapped address object still in use (a connection's); gone with the object.</summary>
    private static readonly ConditionalWeakTable<IPAddress, string> s_mappedText = [];

    private static readonly ConditionalWeakTable<IPAddress, string>.CreateValueCallback s_formatMapped = MappedIPv4Text;

    private readonly IPNetwork[] _trusted;
    private readonly string _header;
    private readonly bool _groupIPv6;

    /// <summary>Whether the header is RFC 7239's <c>Forwarded</c>, whose elements carry the address in <c>for=</c>.</summary>
    private readonly bool _standard;

    public ClientIpKeySelector(IPNetwork[] trusted, string header, bool groupIPv6)
    {
        _trusted = trusted;
        _header = header;
        _groupIPv6 = groupIPv6;
        _standard = string.Equals(header?.Trim(), "Forwarded", StringComparison.OrdinalIgnoreCase);
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

        if (_trusted.Length == 0 && remote.IsIPv4MappedToIPv6)
        {
            // Kestrel listening on every address (http://+:8080, as in containers) reports IPv4 clients in this form,
            // with one address object per connection: its IPv4 text is made once, from the bytes, and kept with it.
            return s_mappedText.GetValue(remote, s_formatMapped);
        }

        var client = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        if (_trusted.Length > 0 && IsTrusted(client))
        {
            client = FromForwardedHeader(context, client);
        }

        return KeyOf(client);
    }

    /// <summary>
    /// An address (or a grouped client's <c>network/64</c>) as this layer keys it: IPv4-mapped addresses as IPv4, IPv6
    /// in its canonical text, grouped by /64 when the layer groups. Text that is not an address stays as it is.
    /// </summary>
    public override string Canonical(string key)
    {
        var text = key.AsSpan().Trim();
        if (_groupIPv6 && text.EndsWith("/64"))
        {
            text = text[..^3];
        }

        return IPAddress.TryParse(text, out var address) ? KeyOf(Normalize(address)) : key;
    }

    /// <summary>
    /// The key of a resolved client: the address's own text, which <see cref="IPAddress"/> caches (so a connection's
    /// address is formatted once), or its /64 network when the layer groups IPv6 clients.
    /// </summary>
    private string KeyOf(IPAddress client)
        => _groupIPv6 && client.AddressFamily == AddressFamily.InterNetworkV6 ? Grouped(client) : client.ToString();

    /// <summary>A method of its own: one with <c>stackalloc</c> is not inlined, and the common path should not pay a call for it.</summary>
    private static string Grouped(IPAddress client)
    {
        Span<byte> bytes = stackalloc byte[16];
        client.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        Span<char> text = stackalloc char[64];
        new IPAddress(bytes).TryFormat(text, out var length);
        "/64".CopyTo(text[length..]);
        return new string(text[..(length + 3)]);
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>The dotted IPv4 text of an IPv4-mapped IPv6 address: what <c>MapToIPv4().ToString()</c> returns.</summary>
    private static string MappedIPv4Text(IPAddress mapped)
    {
        Span<byte> bytes = stackalloc byte[16];
        mapped.TryWriteBytes(bytes, out _);
        Span<char> text = stackalloc char[15];
        var length = 0;
        for (var i = 12; i < 16; i++)
        {
            if (i > 12)
            {
                text[length++] = '.';
            }

            bytes[i].TryFormat(text[length..], out var written, provider: CultureInfo.InvariantCulture);
            length += written;
        }

        return new string(text[..length]);
    }

    /// <summary>
    /// The forwarding header's hops, read right to left (the last value first, each value's entries from its end):
    /// every hop that is a trusted proxy is passed over, and the first one that is not is the client. Read as spans,
    /// so that only the hops looked at are parsed and nothing but their addresses is allocated.
    /// </summary>
    private IPAddress FromForwardedHeader(HttpContext context, IPAddress proxy)
    {
        var values = context.Request.Headers[_header];
        var client = proxy;
        for (var v = values.Count - 1; v >= 0; v--)
        {
            var rest = (values[v] ?? string.Empty).AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.LastIndexOf(',');
                var entry = rest[(comma + 1)..].Trim();
                rest = comma >= 0 ? rest[..comma] : [];
                if (entry.IsEmpty)
                {
                    continue;
                }

                if (!IPAddress.TryParse(StripPort(_standard ? ForParameter(entry) : entry), out var hop))
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

    /// <summary>
    /// The node of one <c>Forwarded</c> element (<c>for=192.0.2.60;proto=http</c>, <c>for="[2001:db8::17]:4711"</c>),
    /// unquoted; empty when the element has none, which ends the chain like any unreadable hop (as do RFC 7239's
    /// <c>unknown</c> and obfuscated identifiers).
    /// </summary>
    private static ReadOnlySpan<char> ForParameter(ReadOnlySpan<char> element)
    {
        foreach (var range in element.Split(';'))
        {
            var pair = element[range].Trim();
            if (pair.Length > 4 && pair.StartsWith("for=", StringComparison.OrdinalIgnoreCase))
            {
                var value = pair[4..].Trim();
                return value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
            }
        }

        return [];
    }

    /// <summary>An address without its port: <c>[2001:db8::1]:443</c> and <c>192.0.2.1:80</c>; a bare IPv6 address is kept whole.</summary>
    private static ReadOnlySpan<char> StripPort(ReadOnlySpan<char> entry)
    {
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf(']');
            return close > 0 ? entry[1..close] : entry;
        }

        var colon = entry.IndexOf(':');
        return colon > 0 && entry[(colon + 1)..].IndexOf(':') < 0 ? entry[..colon] : entry;
    }

    private bool IsTrusted(IPAddress address) => InAny(_trusted, address);

    /// <summary>Whether <paramref name="address"/> (an IPv4-mapped one as IPv4) is one of the trusted proxies.</summary>
    public bool IsTrustedProxy(IPAddress address) => _trusted.Length > 0 && IsTrusted(Normalize(address));

    /// <summary>Whether any of <paramref name="networks"/> contains <paramref name="address"/>.</summary>
    public static bool InAny(IPNetwork[] networks, IPAddress address)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
