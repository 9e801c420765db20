using System.Net;
using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>
/// A layer's key with its exemptions: a request whose key is exempt skips the layer, as one without the key does
/// (no decision, no charge, no headers from it). Keys match exactly (ordinal); for a client-IP key, an entry may also
/// be a network that contains the client's address.
/// </summary>
internal sealed class ExemptKeySelector(RequestKeySelector inner, HashSet<string> keys, IPNetwork[] networks) : RequestKeySelector
{
    public override bool KeyIsSecret => inner.KeyIsSecret;

    public override string Canonical(string key) => inner.Canonical(key);

    public override string? Select(HttpContext context)
    {
        var key = inner.Select(context);
        if (key is null || keys.Contains(key))
        {
            return null;
        }

        return networks.Length > 0 && InAnyNetwork(key) ? null : key;
    }

    private bool InAnyNetwork(string key)
    {
        // A client grouped by /64 is keyed "2001:db8:1:2::/64": its network's first address stands for it.
        var text = key.AsSpan();
        if (text.EndsWith("/64"))
        {
            text = text[..^3];
        }

        return IPAddress.TryParse(text, out var address) && ClientIpKeySelector.InAny(networks, address);
    }
}
