using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sluice.Server.Api;

namespace Sluice.Server.Dns;

/// <summary>
/// Which record types the API manages and what their records look like. A, AAAA, CNAME, NS, MX and TXT are checked in
/// full; the other supported types must be non-empty presentation text. Types that DNSSEC or the server manage (SOA,
/// DNSKEY, RRSIG, NSEC*, ...) are refused, as deSEC refuses them.
/// </summary>
internal static class RecordSyntax
{
    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NS", "PTR", "SRV", "SSHFP", "SVCB", "TLSA", "TXT",
    };

    /// <summary>Types the DNS operator manages (deSEC's <c>RR_SET_TYPES_AUTOMATIC</c>): a list filtered by one is refused.</summary>
    private static readonly HashSet<string> Automatic = new(StringComparer.Ordinal) { "KEY", "NSEC", "NSEC3", "NSEC3PARAM", "OPT", "RRSIG", "SOA" };

    public static bool IsSupported(string type) => Supported.Contains(type);

    /// <summary>Whether the operator manages <paramref name="type"/> (upper case), so that a client may not even list it.</summary>
    public static bool IsAutomatic(string type) => Automatic.Contains(type);

    public static string SupportedList => string.Join(", ", Supported.Order(StringComparer.Ordinal));

    /// <summary>
    /// Why <paramref name="record"/> is not a valid <paramref name="type"/> record, or null when it is; then
    /// <paramref name="canonical"/> is its canonical form, as deSEC stores and answers it: an IPv6 address as .NET writes
    /// it (<c>2001:0DB8::0001</c> is <c>2001:db8::1</c>), host names in lower case, an MX preference without leading
    /// zeros, anything else as given (an IPv4 address is only accepted in its canonical form). Two records that are the
    /// same once canonical are one record.
    /// </summary>
    public static string? Check(string type, string record, out string canonical)
    {
        canonical = record;
        if (record.Length is 0 or > 4000)
        {
            return "Records must be between 1 and 4000 characters.";
        }

        switch (type)
        {
            case "A":
                return IsDottedQuad(record) && IPAddress.TryParse(record, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork
                    ? null : $"'{Echo.Of(record)}' is not an IPv4 address.";
            case "AAAA":
                if (IPAddress.TryParse(record, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && !record.Contains('%', StringComparison.Ordinal))
                {
                    canonical = v6.ToString();
                    return null;
                }

                return $"'{Echo.Of(record)}' is not an IPv6 address.";
            case "CNAME" or "NS" or "PTR":
                canonical = record.ToLowerInvariant();
                return DnsNames.IsAbsoluteHost(record) ? null : $"'{Echo.Of(record)}' is not a fully qualified host name ending in a dot.";
            case "MX":
                if (record.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var preference, var host]
                    && ushort.TryParse(preference, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                    && DnsNames.IsAbsoluteHost(host))
                {
                    canonical = $"{value.ToString(CultureInfo.InvariantCulture)} {host.ToLowerInvariant()}";
                    return null;
                }

                return $"'{Echo.Of(record)}' is not '<preference 0-65535> <host name ending in a dot>'.";
            case "TXT":
                return CheckTxt(record);
            default:
                return null;
        }
    }

    /// <summary>Four decimal numbers separated by dots, none with a leading zero (which some parsers read as octal).</summary>
    private static bool IsDottedQuad(string record)
    {
        var parts = record.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0'));
    }

    /// <summary>One or more double-quoted strings separated by spaces, each at most 255 characters once unescaped.</summary>
    private static string? CheckTxt(string record)
    {
        var i = 0;
        var strings = 0;
        while (i < record.Length)
        {
            if (record[i] == ' ')
            {
                i++;
                continue;
            }

            if (record[i] != '"')
            {
                return $"TXT records are quoted strings such as \"\\\"v=spf1 -all\\\"\"; '{Echo.Of(record)}' is not.";
            }

            var length = 0;
            i++;
            while (i < record.Length && record[i] != '"')
            {
                i += record[i] == '\\' ? 2 : 1;
                length++;
            }

            if (i >= record.Length)
            {
                return $"A quoted string in '{Echo.Of(record)}' is not closed.";
            }

            if (length > 255)
            {
                return "A TXT string is longer than 255 characters; split it into several quoted strings.";
            }

            i++;
            strings++;
        }

        return strings > 0 ? null : "A TXT record needs at least one quoted string.";
    }
}
