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

    private SluicePlan(SluiceOptions options, Dictionary<string, CompiledLayer> layers, CompiledLayer[] global, CompiledLayer? headline, ClientIpKeySelector clientIp)
    {
        Options = options;
        ClientIp = clientIp;
        Layers = layers;
        Global = global;
        Headline = headline;
        _noEndpoint = new EndpointPlan(false, global, null, null);
    }

    public SluiceOptions Options { get; }

    /// <summary>The <c>Ip</c> key of this configuration: its trusted proxies and forwarding header.</summary>
    public ClientIpKeySelector ClientIp { get; }

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
            problems.Add($"{options.SectionPath}:RejectionStatusCode is {options.RejectionStatusCode}; it must be a 4xx or 5xx status code.");
        }

        if (options.UnknownRetryAfterSeconds < 0)
        {
            problems.Add($"{options.SectionPath}:UnknownRetryAfterSeconds is {options.UnknownRetryAfterSeconds}; it must not be negative.");
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
                problems.Add($"{options.SectionPath}:ClientIp:TrustedProxies:{i} '{text}' is not an IP address or CIDR network.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ClientIp.ForwardedHeader))
        {
            problems.Add($"{options.SectionPath}:ClientIp:ForwardedHeader is empty.");
        }

        var ip = new ClientIpKeySelector([.. trusted], options.ClientIp.ForwardedHeader, options.ClientIp.GroupIPv6By64);
        var apiKey = new ApiKeySelector(options.ApiKey);
        var layers = new Dictionary<string, CompiledLayer>(StringComparer.OrdinalIgnoreCase);
        var global = new List<CompiledLayer>();
        var headlines = new List<string>();
        var apiKeyLayers = new List<string>();
        foreach (var (name, layerOptions) in options.Layers)
        {
            var compiled = LayerCompiler.Compile(name, layerOptions, options, ip, apiKey, problems);
            if (options.IetfHeaders && !PolicyCache.IsFieldSafe(name))
            {
                problems.Add($"{options.SectionPath}:Layers:{name}: the name goes into the RateLimit-Policy and RateLimit headers (IetfHeaders is on), which hold printable ASCII only; rename the layer or set {options.SectionPath}:IetfHeaders=false.");
            }

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
            problems.Add($"{string.Join(", ", headlines.Select(h => $"{options.SectionPath}:Layers:{h}:Headline"))} are all true; at most one layer may be the headline.");
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

        return problems.Count > before ? null : new SluicePlan(options, layers, [.. global], options.RateLimitHeaders ? headline : null, ip);
    }

    /// <summary>
    /// Compiles the options and, given <paramref name="endpoints"/>, checks them against the endpoints (see
    /// <see cref="CheckEndpoints"/>); when the options do not compile, still lists the endpoints that require a layer they
    /// lack, so that one message holds both. Null when there is any problem.
    /// </summary>
    public static SluicePlan? Build(SluiceOptions options, IEnumerable<Endpoint>? endpoints, int maxLayers, List<string> problems)
    {
        var before = problems.Count;
        var plan = Build(options, problems);
        if (endpoints is null)
        {
            return plan;
        }

        if (plan is not null)
        {
            CheckEndpoints(plan, endpoints, maxLayers, problems);
        }
        else
        {
            CheckRequiredLayers(options, endpoints, problems);
        }

        return problems.Count > before ? null : plan;
    }

    /// <summary>
    /// Lists endpoints that require a layer no configuration defines, route patterns that match no endpoint, and
    /// endpoints (or requests matching none) that would name more layers than the store decides at once.
    /// </summary>
    public static void CheckEndpoints(SluicePlan plan, IEnumerable<Endpoint> endpoints, int maxLayers, List<string> problems)
    {
        if (plan.Global.Length > maxLayers)
        {
            problems.Add($"{plan.Options.SectionPath}:Layers has {plan.Global.Length} global layers; the store decides at most {maxLayers} layers per request.");
        }

        var templates = new List<string>();
        foreach (var endpoint in endpoints)
        {
            if (RoutePatternGlob.TemplateOf(endpoint) is { } template)
            {
                templates.Add(template);
            }

            CheckRequiredLayers(endpoint, plan.Layers.ContainsKey, plan.Options.SectionPath, problems);
            var applied = plan.For(endpoint).Layers.Length;
            if (applied > maxLayers && plan.Global.Length <= maxLayers)
            {
                problems.Add($"Endpoint '{endpoint.DisplayName}' applies {applied} layers; the store decides at most {maxLayers} layers per request.");
            }
        }

        foreach (var (name, layer) in plan.Layers)
        {
            for (var i = 0; i < layer.Routes.Length; i++)
            {
                if (!templates.Exists(t => RoutePatternGlob.Matches(layer.Routes[i], t)))
                {
                    problems.Add($"{plan.Options.SectionPath}:Layers:{name}:Endpoints:{i} '{layer.Routes[i]}' matches no mapped endpoint.");
                }
            }
        }
    }

    /// <summary>
    /// Lists endpoints that require a layer <paramref name="options"/> do not declare: the one endpoint check that needs
    /// no compiled plan, so that it is reported beside the problems that keep the configuration from compiling.
    /// </summary>
    private static void CheckRequiredLayers(SluiceOptions options, IEnumerable<Endpoint> endpoints, List<string> problems)
    {
        foreach (var endpoint in endpoints)
        {
            CheckRequiredLayers(endpoint, options.Layers.ContainsKey, options.SectionPath, problems);
        }
    }

    private static void CheckRequiredLayers(Endpoint endpoint, Func<string, bool> configured, string sectionPath, List<string> problems)
    {
        foreach (var metadata in endpoint.Metadata.GetOrderedMetadata<IRateLimitMetadata>())
        {
            foreach (var name in metadata.Layers)
            {
                if (!configured(name))
                {
                    problems.Add($"Endpoint '{endpoint.DisplayName}' requires rate-limit layer '{name}', which is not configured under {sectionPath}:Layers.");
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
