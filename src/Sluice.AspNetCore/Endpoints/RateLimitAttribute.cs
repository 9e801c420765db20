namespace Sluice.AspNetCore;

/// <summary>
/// Applies the named layers to an endpoint, a controller or a route group, in addition to the global layers.
/// The same metadata as <c>RequireRateLimit("name")</c>. Several attributes add up.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true, Inherited = true)]
public sealed class RateLimitAttribute(params string[] layers) : Attribute, IRateLimitMetadata
{
    /// <inheritdoc />
    public IReadOnlyList<string> Layers { get; } = layers;
}
