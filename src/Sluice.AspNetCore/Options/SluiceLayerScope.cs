namespace Sluice.AspNetCore;

/// <summary>Where a layer applies.</summary>
internal enum SluiceLayerScope
{
    /// <summary>Every request, unless its endpoint disables rate limiting.</summary>
    Global,

    /// <summary>Only endpoints that require the layer (<c>RequireRateLimit("name")</c> or <c>[RateLimit("name")]</c>).</summary>
    Endpoint,
}
