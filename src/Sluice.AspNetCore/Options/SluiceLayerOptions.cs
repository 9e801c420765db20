using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore;

/// <summary>One layer: <c>Sluice:Layers:&lt;name&gt;</c>.</summary>
public sealed class SluiceLayerOptions
{
    /// <summary>
    /// What the layer is partitioned by: <c>Ip</c>, <c>ApiKey</c>, <c>User</c>, <c>Claim:&lt;type&gt;</c>,
    /// <c>Route:&lt;name&gt;</c> (e.g. <c>Route:domain</c>), <c>Header:&lt;name&gt;</c>, <c>Custom:&lt;name&gt;</c>
    /// (see <see cref="SluiceOptions.KeySelectors"/>), or <c>Global</c> (one key for everybody). Case-insensitive.
    /// A request without the key (no API key sent) skips the layer. The default is <c>Ip</c>.
    /// </summary>
    public string Key { get; set; } = "Ip";

    /// <summary>The rates enforced at once, e.g. <c>["2/s", "15/min"]</c>. Required.</summary>
    public IList<string> Rates { get; set; } = [];

    /// <summary>
    /// The algorithm: <c>FixedWindow</c> (or <c>Fixed</c>), <c>SlidingWindow</c> (<c>Sliding</c>), <c>TokenBucket</c>
    /// (<c>Gcra</c>) or <c>Concurrency</c>; case-insensitive. Text, so that a typo is reported with every other problem
    /// instead of failing the configuration binder. The default is <c>FixedWindow</c>.
    /// </summary>
    public string Algorithm { get; set; } = "FixedWindow";

    /// <summary>
    /// For a <c>TokenBucket</c> layer with one rate: the bucket's size, the rate then being the refill pace
    /// (<c>Rates: ["10/s"]</c> with <c>Burst: 50</c> allows 50 at once and 10 a second sustained; see
    /// <see cref="Rate.WithBurst"/>). Without it a bucket holds the rate's limit. Not set by default.
    /// </summary>
    public long? Burst { get; set; }

    /// <summary>
    /// <c>Global</c> (the default) applies to every request; <c>Endpoint</c> only to endpoints that require the layer by name.
    /// </summary>
    public string Scope { get; set; } = "Global";

    /// <summary>
    /// For an <c>Endpoint</c> layer: route patterns of endpoints it applies to without <c>RequireRateLimit</c>, written as
    /// the endpoints are mapped, with <c>*</c> for any run of characters (<c>/api/auth/*</c>,
    /// <c>/api/v1/domains/{name}/rrsets/</c>); case-insensitive. A pattern that matches no endpoint is a configuration
    /// problem, as is setting it on a <c>Global</c> layer. Empty by default.
    /// </summary>
    public IList<string> Endpoints { get; set; } = [];

    /// <summary>
    /// Which methods the layer counts: <c>All</c> (the default), <c>Read</c> (safe methods: GET, HEAD, OPTIONS, TRACE) or
    /// <c>Write</c> (every other method).
    /// </summary>
    public string Methods { get; set; } = "All";

    /// <summary>When <see langword="true"/>, the layer is evaluated, logged and counted, but never denies. The default is <see langword="false"/>.</summary>
    public bool Shadow { get; set; }

    /// <summary>
    /// Whether this layer's state goes to <c>X-RateLimit-*</c>. At most one layer may be the headline; when none is
    /// marked, the single layer keyed by <c>ApiKey</c> is. The default is <see langword="false"/>.
    /// </summary>
    public bool Headline { get; set; }

    /// <summary>
    /// Keys this layer never limits: a request whose key is listed skips the layer as if it had no key (no decision, no
    /// charge, no headers from this layer; every other layer still applies). Exact keys, compared ordinally (route
    /// values lower-cased, as the <c>Route</c> key is). For an <c>Ip</c> layer each entry is an address or a network
    /// (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>) matched against the client's address as resolved through the trusted
    /// proxies. Empty by default.
    /// </summary>
    public IList<string> Exempt { get; set; } = [];

    /// <summary>Segments of a sliding window. The default is 10.</summary>
    public int SlidingWindowSegments { get; set; } = RateLimitLayer.DefaultSlidingWindowSegments;

    /// <summary>A key selector set in code; when set it wins over <see cref="Key"/>.</summary>
    public Func<HttpContext, string?>? KeySelector { get; set; }
}
