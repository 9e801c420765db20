using Sluice.AspNetCore.Keys;

namespace Sluice.AspNetCore.Middleware;

/// <summary>A configured layer, parsed and validated: the core layer, how to find its key and where it applies.</summary>
internal sealed class CompiledLayer(RateLimitLayer layer, RequestKeySelector selector, SluiceLayerScope scope, SluiceMethodClass methods)
{
    public RateLimitLayer Layer { get; } = layer;

    public RequestKeySelector Selector { get; } = selector;

    public SluiceLayerScope Scope { get; } = scope;

    /// <summary>Whether the layer applies whatever the request's method.</summary>
    public bool AnyMethod => methods == SluiceMethodClass.All;

    public bool AppliesTo(bool safeMethod) => methods switch
    {
        SluiceMethodClass.Read => safeMethod,
        SluiceMethodClass.Write => !safeMethod,
        _ => true,
    };
}
