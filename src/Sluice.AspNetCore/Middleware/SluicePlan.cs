using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Http;
using Sluice.AspNetCore.Keys;

namespace Sluice.AspNetCore.Middleware;

/// <summary>
/// One configuration, compiled: every layer parsed and validated, and the plan of each endpoint cached. A reload builds
/// a new plan; the store keeps usage because layers keep their names.
/// </summary>
internal sealed class SluicePlan
{
    // This thread's last lookup. Only this thread reads or writes them, so three plain fields cannot be seen torn.
    [ThreadStatic]
    private static Endpoint? t_lastEndpoint;

    [ThreadStatic]
    private static SluicePlan? t_lastPlan;

    [ThreadStatic]
    private static EndpointPlan? t_lastCompiled;

    private readonly ConcurrentDictionary<Endpoint, EndpointPlan> _endpoints = new();
    private readonly EndpointPlan _noEndpoint;

    private SluicePlan(SluiceOptions options, Dictionary<string, CompiledLayer> layers, CompiledLayer[] global, CompiledLayer? headline)
    {
        Options = options;
        Layers = layers;
        Global = global;
        Headline = headline;
        _noEndpoint = new EndpointPlan(false, global, null, null);
    }

    public SluiceOptions Options { get; }

    public bool Enabled => Options.Enabled;

    public Dictionary<string, CompiledLayer> Layers { get; }

    public CompiledLayer[] Global { get; }

    /// <summary>The layer whose state goes to <c>X-RateLimit-*</c>; null when headers are off or there are no layers.</summary>
    public CompiledLayer? Headline { get; }

    /// <summary>Compiles the options; every problem found goes to <paramref name="problems"/>, and the result is null if there is any.</summary>
    public static SluicePlan? Build(SluiceOptions options, List<string> problems)
    {
        var before = problems.Count;
        problems.AddRange(options.BindingProblems);
        if (options.RejectionStatusCode is < 400 or > 599)
        {
            problems.Add($"Sluice:RejectionStatusCode is {options.RejectionStatusCode}; it must be a 4xx or 5xx status code.");
        }

        if (options.UnknownRetryAfterSeconds < 0)
        {
            problems.Add($"Sluice:UnknownRetryAfterSeconds is {options.UnknownRetryAfterSeconds}; it must not be negative.");
        }

        var trusted = new List<IPNetwork>();
        for (var i = 0; i < options.ClientIp.TrustedProxies.Count; i++)
        {
            var text = options.ClientIp.TrustedProxies[i];
            if (ClientIpKeySelector.ParseNetwork(text ?? string.Empty) is { } network)
            {
                trusted.Add(network);
            }
            else
            {
                problems.Add($"Sluice:ClientIp:TrustedProxies:{i} '{text}' is not an IP address or CIDR network.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ClientIp.ForwardedHeader))
        {
            problems.Add("Sluice:ClientIp:ForwardedHeader is empty.");
        }

        var ip = new ClientIpKeySelector([.. trusted], options.ClientIp.ForwardedHeader, options.ClientIp.GroupIPv6By64);
        var apiKey = new ApiKeySelector(options.ApiKey);
        var layers = new Dictionary<string, CompiledLayer>(StringComparer.OrdinalIgnoreCase);
        var global = new List<CompiledLayer>();
        var headlines = new List<string>();
        var apiKeyLayers = new List<string>();
        foreach (var (name, layerOptions) in options.Layers)
        {
            var compiled = CompileLayer(name, layerOptions, options, ip, apiKey, problems);
            if (layerOptions.Headline)
            {
                headlines.Add(name);
            }

            if (layerOptions.KeySelector is null && string.Equals(layerOptions.Key?.Trim(), "ApiKey", StringComparison.OrdinalIgnoreCase))
            {
                apiKeyLayers.Add(name);
            }

            if (compiled is null)
            {
                continue;
            }

            layers[name] = compiled;
            if (compiled.Scope == SluiceLayerScope.Global)
            {
                global.Add(compiled);
            }
        }

        CompiledLayer? headline = null;
        if (headlines.Count > 1)
        {
            problems.Add($"Layers {string.Join(", ", headlines.Select(h => $"'{h}'"))} are all marked Headline; at most one may be.");
        }
        else if (headlines.Count == 1)
        {
            layers.TryGetValue(headlines[0], out headline);
        }
        else if (options.RateLimitHeaders && options.Layers.Count > 0)
        {
            if (apiKeyLayers.Count == 1)
            {
                layers.TryGetValue(apiKeyLayers[0], out headline);
            }
            else
            {
                problems.Add("No headline layer for the X-RateLimit-* headers: set Headline=true on one layer (by default the single layer keyed by ApiKey), or set Sluice:RateLimitHeaders=false.");
            }
        }

        return problems.Count > before ? null : new SluicePlan(options, layers, [.. global], options.RateLimitHeaders ? headline : null);
    }

    /// <summary>Lists endpoints that require a layer no configuration defines, and route patterns that match no endpoint.</summary>
    public static void CheckEndpoints(SluicePlan plan, IEnumerable<Endpoint> endpoints, List<string> problems)
    {
        var templates = new List<string>();
        foreach (var endpoint in endpoints)
        {
            if (RoutePatternGlob.TemplateOf(endpoint) is { } template)
            {
                templates.Add(template);
            }

            foreach (var metadata in endpoint.Metadata.GetOrderedMetadata<IRateLimitMetadata>())
            {
                foreach (var name in metadata.Layers)
                {
                    if (!plan.Layers.ContainsKey(name))
                    {
                        problems.Add($"Endpoint '{endpoint.DisplayName}' requires rate-limit layer '{name}', which is not configured under Sluice:Layers.");
                    }
                }
            }
        }

        foreach (var (name, layer) in plan.Layers)
        {
            for (var i = 0; i < layer.Routes.Length; i++)
            {
                if (!templates.Exists(t => RoutePatternGlob.Matches(layer.Routes[i], t)))
                {
                    problems.Add($"Sluice:Layers:{name}:Endpoints:{i} '{layer.Routes[i]}' matches no mapped endpoint.");
                }
            }
        }
    }

    public EndpointPlan For(Endpoint? endpoint)
    {
        if (endpoint is null)
        {
            return _noEndpoint;
        }

        // Consecutive requests on a thread mostly hit the same endpoint: skip the dictionary then.
        if (ReferenceEquals(t_lastEndpoint, endpoint) && ReferenceEquals(t_lastPlan, this))
        {
            return t_lastCompiled!;
        }

        var compiled = _endpoints.GetOrAdd(endpoint, static (e, plan) => plan.Compile(e), this);
        t_lastEndpoint = endpoint;
        t_lastPlan = this;
        t_lastCompiled = compiled;
        return compiled;
    }

    private static CompiledLayer? CompileLayer(string name, SluiceLayerOptions options, SluiceOptions root, ClientIpKeySelector ip, ApiKeySelector apiKey, List<string> problems)
    {
        var prefix = $"Sluice:Layers:{name}";
        var before = problems.Count;
        var rates = new List<Rate>();
        if (options.Rates is null || options.Rates.Count == 0)
        {
            problems.Add($"{prefix}:Rates is empty; give at least one rate such as \"100/min\".");
        }
        else
        {
            for (var i = 0; i < options.Rates.Count; i++)
            {
                if (Rate.TryParse(options.Rates[i], out var rate, out var error))
                {
                    rates.Add(rate);
                }
                else
                {
                    problems.Add($"{prefix}:Rates:{i} '{options.Rates[i]}' is not a valid rate: {error}.");
                }
            }
        }

        var algorithm = ParseAlgorithm(options.Algorithm);
        if (algorithm is null)
        {
            problems.Add($"{prefix}:Algorithm '{options.Algorithm}' is unknown; use FixedWindow, SlidingWindow, TokenBucket or Concurrency.");
        }

        if (options.Burst is { } burst)
        {
            if (algorithm is not null && algorithm != RateLimitAlgorithm.TokenBucket)
            {
                problems.Add($"{prefix}:Burst is set, but only a TokenBucket layer has a burst; this one is {algorithm}.");
            }
            else if (burst < 1 || burst > Rate.MaxLimit)
            {
                problems.Add($"{prefix}:Burst is {burst}; it must be between 1 and {Rate.MaxLimit}.");
            }
            else if (rates.Count > 1 || (options.Rates?.Count ?? 0) > 1)
            {
                problems.Add($"{prefix}:Burst needs exactly one rate (the refill pace); this layer has {options.Rates!.Count}.");
            }
            else if (rates.Count == 1)
            {
                try
                {
                    rates[0] = rates[0].WithBurst(burst);
                }
                catch (ArgumentOutOfRangeException e)
                {
                    problems.Add($"{prefix}:Burst: {e.Message.Split(" (Parameter")[0]}");
                }
            }
        }

        SluiceLayerScope? scope = options.Scope?.Trim().ToUpperInvariant() switch
        {
            "GLOBAL" => SluiceLayerScope.Global,
            "ENDPOINT" => SluiceLayerScope.Endpoint,
            _ => null,
        };
        if (scope is null)
        {
            problems.Add($"{prefix}:Scope '{options.Scope}' is unknown; use Global or Endpoint.");
        }

        SluiceMethodClass? methods = options.Methods?.Trim().ToUpperInvariant() switch
        {
            "ALL" or "" => SluiceMethodClass.All,
            "READ" or "SAFE" => SluiceMethodClass.Read,
            "WRITE" or "UNSAFE" => SluiceMethodClass.Write,
            _ => null,
        };
        if (methods is null)
        {
            problems.Add($"{prefix}:Methods '{options.Methods}' is unknown; use All, Read or Write.");
        }

        var selector = options.KeySelector is { } custom ? new DelegateKeySelector(custom) : ParseKey(prefix, options.Key, root, ip, apiKey, problems);
        if (selector is not null && options.Exempt is { Count: > 0 } exempt)
        {
            selector = WithExemptions(prefix, selector, exempt, ReferenceEquals(selector, ip), problems);
        }
        RateLimitLayer? layer = null;
        if (problems.Count == before)
        {
            try
            {
                layer = new RateLimitLayer(name, algorithm!.Value, rates, options.Shadow, options.SlidingWindowSegments);
            }
            catch (ArgumentException e)
            {
                problems.Add($"{prefix}: {e.Message.Split(" (Parameter")[0]}");
            }
        }

        var routes = new List<string>();
        for (var i = 0; i < (options.Endpoints?.Count ?? 0); i++)
        {
            var pattern = options.Endpoints![i]?.Trim() ?? string.Empty;
            if (!pattern.StartsWith('/'))
            {
                problems.Add($"{prefix}:Endpoints:{i} '{pattern}' is not a route pattern; write it as mapped, starting with '/', such as \"/api/auth/*\".");
            }
            else
            {
                routes.Add(pattern);
            }
        }

        if (routes.Count > 0 && scope == SluiceLayerScope.Global)
        {
            problems.Add($"{prefix}:Endpoints applies only to an endpoint layer; set {prefix}:Scope to Endpoint (a Global layer applies to every endpoint already).");
        }

        return layer is null || problems.Count > before ? null : new CompiledLayer(layer, selector!, scope!.Value, methods!.Value, [.. routes]);
    }

    /// <summary>The layer's key with its exemptions: exact keys, or for a client-IP layer addresses and networks.</summary>
    private static RequestKeySelector WithExemptions(string prefix, RequestKeySelector selector, IList<string> exempt, bool clientIp, List<string> problems)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var networks = new List<IPNetwork>();
        for (var i = 0; i < exempt.Count; i++)
        {
            var entry = exempt[i]?.Trim() ?? string.Empty;
            if (entry.Length == 0)
            {
                problems.Add($"{prefix}:Exempt:{i} is empty; give a key{(clientIp ? ", an address or a network" : string.Empty)}.");
            }
            else if (!clientIp)
            {
                keys.Add(selector is RouteValueKeySelector ? entry.ToLowerInvariant() : entry);
            }
            else if (ClientIpKeySelector.ParseNetwork(entry) is { } network)
            {
                networks.Add(network);
            }
            else
            {
                problems.Add($"{prefix}:Exempt:{i} '{entry}' is not an IP address or network (such as 10.0.0.0/8) for this Ip layer.");
            }
        }

        return new ExemptKeySelector(selector, keys, [.. networks]);
    }

    private static RateLimitAlgorithm? ParseAlgorithm(string? text) => text?.Trim().Replace("-", string.Empty, StringComparison.Ordinal).ToUpperInvariant() switch
    {
        "FIXEDWINDOW" or "FIXED" => RateLimitAlgorithm.FixedWindow,
        "SLIDINGWINDOW" or "SLIDING" => RateLimitAlgorithm.SlidingWindow,
        "TOKENBUCKET" or "GCRA" => RateLimitAlgorithm.TokenBucket,
        "CONCURRENCY" => RateLimitAlgorithm.Concurrency,
        _ => null,
    };

    private static RequestKeySelector? ParseKey(string prefix, string? text, SluiceOptions root, ClientIpKeySelector ip, ApiKeySelector apiKey, List<string> problems)
    {
        var spec = text?.Trim() ?? string.Empty;
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var kind = (colon < 0 ? spec : spec[..colon]).ToUpperInvariant();
        var argument = colon < 0 ? string.Empty : spec[(colon + 1)..].Trim();
        RequestKeySelector? selector = (kind, argument.Length > 0) switch
        {
            ("IP", false) => ip,
            ("APIKEY", false) => apiKey,
            ("USER", false) => new ClaimKeySelector(null),
            ("GLOBAL", false) => ConstantKeySelector.Instance,
            ("CLAIM", true) => new ClaimKeySelector(argument),
            ("ROUTE", true) => new RouteValueKeySelector(argument),
            ("HEADER", true) => new HeaderKeySelector(argument),
            ("CUSTOM", true) => root.KeySelectors.TryGetValue(argument, out var custom) ? new DelegateKeySelector(custom) : null,
            _ => null,
        };

        if (selector is null)
        {
            problems.Add(kind == "CUSTOM" && argument.Length > 0
                ? $"{prefix}:Key '{spec}' names no key selector; register it in SluiceOptions.KeySelectors[\"{argument}\"]."
                : $"{prefix}:Key '{spec}' is not a key kind; use Ip, ApiKey, User, Global, Claim:<type>, Route:<name>, Header:<name> or Custom:<name>.");
        }

        return selector;
    }

    private EndpointPlan Compile(Endpoint endpoint)
    {
        var metadata = endpoint.Metadata;
        if (metadata.GetMetadata<DisableRateLimitAttribute>() is not null)
        {
            return new EndpointPlan(true, [], null, null);
        }

        var applied = new List<CompiledLayer>(Global);
        foreach (var required in metadata.GetOrderedMetadata<IRateLimitMetadata>())
        {
            foreach (var name in required.Layers)
            {
                if (Layers.TryGetValue(name, out var layer) && !applied.Contains(layer))
                {
                    applied.Add(layer);
                }
            }
        }

        // Then the endpoint layers whose configured route patterns match this endpoint, in name order.
        var template = RoutePatternGlob.TemplateOf(endpoint);
        foreach (var layer in Layers.Values)
        {
            if (layer.Routes.Length > 0 && layer.MatchesRoute(template) && !applied.Contains(layer))
            {
                applied.Add(layer);
            }
        }

        return new EndpointPlan(false, [.. applied], metadata.GetMetadata<RateLimitCostMetadata>()?.Cost, metadata.GetMetadata<RateLimitRejectionMetadata>()?.OnRejected);
    }
}
