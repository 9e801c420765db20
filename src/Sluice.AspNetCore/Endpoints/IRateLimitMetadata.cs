namespace Sluice.AspNetCore;

/// <summary>Endpoint metadata naming the endpoint-scoped layers that apply to it, besides the global ones.</summary>
public interface IRateLimitMetadata
{
    /// <summary>The layer names, as configured under <c>Sluice:Layers</c>.</summary>
    IReadOnlyList<string> Layers { get; }
}
