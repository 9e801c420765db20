using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore;

/// <summary>
/// Options of the Sluice middleware, bound from the <c>Sluice</c> configuration section and/or set in code.
/// Configuration changes (layers, rates, flags) apply to the next request without a restart; usage is kept.
/// </summary>
public sealed class SluiceOptions
{
    /// <summary>When <see langword="false"/>, the middleware does nothing: no limits, no headers. The default is <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The store: <c>Memory</c> (the default) or <c>Redis</c> (needs <c>Sluice.Redis</c>).</summary>
    public string Store { get; set; } = "Memory";

    /// <summary>The layers by name. Global layers apply to every request; endpoint layers where an endpoint requires them.</summary>
    public IDictionary<string, SluiceLayerOptions> Layers { get; } = new Dictionary<string, SluiceLayerOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether to write <c>X-RateLimit-Limit/Remaining/Reset</c> for the headline layer. The default is <see langword="true"/>.</summary>
    public bool RateLimitHeaders { get; set; } = true;

    /// <summary>
    /// Whether to write the IETF <c>RateLimit-Policy</c> and <c>RateLimit</c> fields
    /// (draft-ietf-httpapi-ratelimit-headers-10) for every applicable rate. The default is <see langword="false"/>.
    /// </summary>
    public bool IetfHeaders { get; set; }

    /// <summary>The status code of a denial. The default is 429.</summary>
    public int RejectionStatusCode { get; set; } = StatusCodes.Status429TooManyRequests;

    /// <summary>
    /// The Retry-After, in seconds, sent when no finite wait is known (only a concurrency layer denied). The default is 1.
    /// </summary>
    public int UnknownRetryAfterSeconds { get; set; } = 1;

    /// <summary>How client IPs are read. See <see cref="SluiceClientIpOptions"/>.</summary>
    public SluiceClientIpOptions ClientIp { get; } = new();

    /// <summary>How API keys are read. See <see cref="SluiceApiKeyOptions"/>.</summary>
    public SluiceApiKeyOptions ApiKey { get; } = new();

    /// <summary>Named key selectors for layers whose <see cref="SluiceLayerOptions.Key"/> is <c>Custom:&lt;name&gt;</c>. Code only.</summary>
    public IDictionary<string, Func<HttpContext, string?>> KeySelectors { get; } = new Dictionary<string, Func<HttpContext, string?>>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The cost of a request when its endpoint sets none (see <c>WithRateLimitCost</c>). The default, <see langword="null"/>, costs 1.
    /// The delegate is the application's code: an exception it throws, or a negative cost (an
    /// <see cref="InvalidOperationException"/>), propagates from the middleware before any layer is charged.
    /// </summary>
    public Func<HttpContext, long>? Cost { get; set; }

    /// <summary>
    /// Writes the denial response instead of the default problem document, unless the endpoint has its own
    /// (<c>OnRateLimitRejected</c>). Status code and headers are already set when it runs. Code only.
    /// </summary>
    public Func<RateLimitRejectedContext, CancellationToken, ValueTask>? OnRejected { get; set; }

    /// <summary>Adds or replaces a layer in code.</summary>
    public SluiceOptions AddLayer(string name, Action<SluiceLayerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configure);
        if (!Layers.TryGetValue(name, out var layer))
        {
            layer = new SluiceLayerOptions();
            Layers[name] = layer;
        }

        configure(layer);
        return this;
    }

    /// <summary>Values the configuration binder could not convert, reported with the plan's problems.</summary>
    internal IReadOnlyList<string> BindingProblems { get; set; } = [];

    /// <summary>The configuration path the options were bound from, which problems name (<c>Sluice</c> unless bound from another section).</summary>
    internal string SectionPath { get; set; } = "Sluice";
}
