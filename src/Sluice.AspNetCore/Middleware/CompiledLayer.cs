using Sluice.AspNetCore.Keys;

namespace Sluice.AspNetCore.Middleware;

/// <summary>A configured layer, parsed and validated: the core layer, how to find its key and where it applies.</summary>
internal sealed class CompiledLayer(RateLimitLayer layer, RequestKeySelector selector, SluiceLayerScope scope, SluiceMethodClass methods, string[] routes)
{
    public RateLimitLayer Layer { get; } = layer;

    public RequestKeySelector Selector { get; } = selector;

    public SluiceLayerScope Scope { get; } = scope;

    /// <summary>Route patterns (<c>Sluice:Layers:&lt;name&gt;:Endpoints</c>) of the endpoints this endpoint layer applies to without metadata.</summary>
    public string[] Routes { get; } = routes;

    /// <summary>Whether an endpoint with this route template is one of <see cref="Routes"/>.</summary>
    public bool MatchesRoute(string? template)
    {
        if (template is null)
        {
            return false;
        }

        foreach (var pattern in Routes)
        {
            if (RoutePatternGlob.Matches(pattern, template))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the layer applies whatever the request's method.</summary>
    public bool AnyMethod => methods == SluiceMethodClass.All;

    public bool AppliesTo(bool safeMethod) => methods switch
    {
        SluiceMethodClass.Read => safeMethod,
        SluiceMethodClass.Write => !safeMethod,
        _ => true,
    };
}
