using System.Net;
using Sluice.AspNetCore.Keys;

namespace Sluice.AspNetCore.Middleware;

/// <summary>
/// Compiles one <c>Sluice:Layers:&lt;name&gt;</c> entry into a <see cref="CompiledLayer"/>: its rates (and burst), algorithm,
/// scope, methods, key selector with its exemptions, and route patterns. Every problem goes to the list.
/// </summary>
internal static class LayerCompiler
{
    public static CompiledLayer? Compile(string name, SluiceLayerOptions options, SluiceOptions root, ClientIpKeySelector ip, ApiKeySelector apiKey, List<string> problems)
    {
        var prefix = $"{root.SectionPath}:Layers:{name}";
        var before = problems.Count;
        var rates = ParseRates(prefix, options.Rates, problems);
        var algorithm = ParseAlgorithm(options.Algorithm);
        if (algorithm is null)
        {
            problems.Add($"{prefix}:Algorithm '{options.Algorithm}' is unknown; use FixedWindow, SlidingWindow, TokenBucket or Concurrency.");
        }

        if (options.Burst is { } burst)
        {
            ApplyBurst(prefix, burst, algorithm, options.Rates?.Count ?? 0, rates, problems);
        }

        var scope = ParseScope(prefix, options.Scope, problems);
        var methods = ParseMethods(prefix, options.Methods, problems);
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

        var routes = ParseRoutes(prefix, options.Endpoints, scope, problems);
        return layer is null || problems.Count > before ? null : new CompiledLayer(layer, selector!, scope!.Value, methods!.Value, routes);
    }

    private static List<Rate> ParseRates(string prefix, IList<string>? texts, List<string> problems)
    {
        var rates = new List<Rate>();
        if (texts is null || texts.Count == 0)
        {
            problems.Add($"{prefix}:Rates is empty; give at least one rate such as \"100/min\".");
            return rates;
        }

        for (var i = 0; i < texts.Count; i++)
        {
            if (Rate.TryParse(texts[i], out var rate, out var error))
            {
                rates.Add(rate);
            }
            else
            {
                problems.Add($"{prefix}:Rates:{i} '{texts[i]}' is not a valid rate: {error}.");
            }
        }

        return rates;
    }

    /// <summary>Makes the layer's one rate a bucket of <paramref name="burst"/> at the same pace, or says why it cannot.</summary>
    private static void ApplyBurst(string prefix, long burst, RateLimitAlgorithm? algorithm, int rateCount, List<Rate> rates, List<string> problems)
    {
        if (algorithm is not null && algorithm != RateLimitAlgorithm.TokenBucket)
        {
            problems.Add($"{prefix}:Burst is set, but only a TokenBucket layer has a burst; this one is {algorithm}.");
        }
        else if (burst < 1 || burst > Rate.MaxLimit)
        {
            problems.Add($"{prefix}:Burst is {burst}; it must be between 1 and {Rate.MaxLimit}.");
        }
        else if (rateCount > 1)
        {
            problems.Add($"{prefix}:Burst needs exactly one rate (the refill pace); this layer has {rateCount}.");
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

    private static SluiceLayerScope? ParseScope(string prefix, string? text, List<string> problems)
    {
        SluiceLayerScope? scope = text?.Trim().ToUpperInvariant() switch
        {
            "GLOBAL" => SluiceLayerScope.Global,
            "ENDPOINT" => SluiceLayerScope.Endpoint,
            _ => null,
        };
        if (scope is null)
        {
            problems.Add($"{prefix}:Scope '{text}' is unknown; use Global or Endpoint.");
        }

        return scope;
    }

    private static SluiceMethodClass? ParseMethods(string prefix, string? text, List<string> problems)
    {
        SluiceMethodClass? methods = text?.Trim().ToUpperInvariant() switch
        {
            "ALL" or "" => SluiceMethodClass.All,
            "READ" or "SAFE" => SluiceMethodClass.Read,
            "WRITE" or "UNSAFE" => SluiceMethodClass.Write,
            _ => null,
        };
        if (methods is null)
        {
            problems.Add($"{prefix}:Methods '{text}' is unknown; use All, Read or Write.");
        }

        return methods;
    }

    /// <summary>The layer's route patterns (<c>Endpoints</c>), which only an endpoint layer may have.</summary>
    private static string[] ParseRoutes(string prefix, IList<string>? patterns, SluiceLayerScope? scope, List<string> problems)
    {
        var routes = new List<string>();
        for (var i = 0; i < (patterns?.Count ?? 0); i++)
        {
            var pattern = patterns![i]?.Trim() ?? string.Empty;
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

        return [.. routes];
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
                keys.Add(selector.Canonical(entry));
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
}
