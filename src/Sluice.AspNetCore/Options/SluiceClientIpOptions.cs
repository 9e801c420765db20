namespace Sluice.AspNetCore;

/// <summary>How the <c>Ip</c> key is read: <c>Sluice:ClientIp</c>.</summary>
public sealed class SluiceClientIpOptions
{
    /// <summary>
    /// Proxies whose forwarding header is believed: addresses or CIDR networks (<c>10.0.0.0/8</c>, <c>::1</c>).
    /// The forwarding header is ignored unless the connection comes from one of them. The default is empty: the header is never believed.
    /// </summary>
    public IList<string> TrustedProxies { get; set; } = [];

    /// <summary>The forwarding header, read right to left, skipping trusted proxies. The default is <c>X-Forwarded-For</c>.</summary>
    public string ForwardedHeader { get; set; } = "X-Forwarded-For";

    /// <summary>When <see langword="true"/>, IPv6 clients are keyed by their /64 network. The default is <see langword="false"/>.</summary>
    public bool GroupIPv6By64 { get; set; }
}
