using System.Text.RegularExpressions;

namespace Sluice.Server.Dns;

/// <summary>Syntax of domain names, subnames and host names, as deSEC accepts them (lower case, no trailing dot on zones).</summary>
internal static partial class DnsNames
{
    /// <summary>A zone name such as <c>example.com</c>: at least two labels of letters, digits and inner hyphens; at most 253 characters.</summary>
    public static bool IsDomain(string name) => name.Length <= 253 && Domain().IsMatch(name);

    /// <summary>A subname: empty for the apex, else dot-separated labels (underscores allowed, <c>*</c> as the first label).</summary>
    public static bool IsSubname(string subname) => subname.Length == 0 || (subname.Length <= 178 && Subname().IsMatch(subname));

    /// <summary>A fully qualified host name with its trailing dot, as CNAME, NS and MX targets must be.</summary>
    public static bool IsAbsoluteHost(string host) => host.Length is > 1 and <= 254 && host.EndsWith('.') && (host == "." || Host().IsMatch(host[..^1]));

    /// <summary>
    /// The zone names that could hold the DNS name <paramref name="qname"/>, longest first: the name itself and each
    /// suffix after one of its dots that is a valid zone name (<c>_acme-challenge.www.example.com</c> gives
    /// <c>www.example.com</c>, <c>example.com</c>). None when the name, without a leading <c>*.</c>, is not a DNS name
    /// (letters, digits, hyphens and underscores in labels of up to 63 characters, at most 253 in all), as deSEC answers
    /// an <c>owns_qname</c> filter that is not one. Case-insensitive.
    /// </summary>
    public static List<string> ZonesHolding(string qname)
    {
        var name = qname.ToLowerInvariant();
        var checkedName = name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name;
        var zones = new List<string>();
        if (checkedName.Length is 0 or > 253 || !Host().IsMatch(checkedName))
        {
            return zones;
        }

        for (var at = 0; at >= 0; at = name.IndexOf('.', at) is var dot and >= 0 ? dot + 1 : -1)
        {
            if (IsDomain(name[at..]))
            {
                zones.Add(name[at..]);
            }
        }

        return zones;
    }

    [GeneratedRegex(@"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex Domain();

    [GeneratedRegex(@"^(?:\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$")]
    private static partial Regex Subname();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)(?:\.[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*$")]
    private static partial Regex Host();
}
