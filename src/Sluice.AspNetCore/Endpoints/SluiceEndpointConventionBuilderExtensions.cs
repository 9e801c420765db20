using Microsoft.AspNetCore.Http;
using Sluice.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Rate-limit conventions for endpoints and route groups.</summary>
public static class SluiceEndpointConventionBuilderExtensions
{
    /// <summary>Applies the named layers to the endpoints, in addition to the global layers. Adds a <see cref="RateLimitAttribute"/>.</summary>
    public static TBuilder RequireRateLimit<TBuilder>(this TBuilder builder, params string[] layers)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(layers);
        return builder.WithSluiceMetadata(new RateLimitAttribute(layers));
    }

    /// <summary>Exempts the endpoints from every layer. Adds a <see cref="DisableRateLimitAttribute"/>.</summary>
    public static TBuilder DisableRateLimit<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithSluiceMetadata(new DisableRateLimitAttribute());

    /// <summary>
    /// Sets the cost of each request to the endpoints (e.g. 1 for a bulk request, whatever it holds). An exception the
    /// delegate throws, or a negative cost (an <see cref="InvalidOperationException"/>), propagates from the middleware
    /// before any layer is charged.
    /// </summary>
    public static TBuilder WithRateLimitCost<TBuilder>(this TBuilder builder, Func<HttpContext, long> cost)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(cost);
        return builder.WithSluiceMetadata(new RateLimitCostMetadata(cost));
    }

    /// <summary>Writes the denial response of the endpoints (e.g. a DNS API's own body) instead of the default.</summary>
    public static TBuilder OnRateLimitRejected<TBuilder>(this TBuilder builder, Func<RateLimitRejectedContext, CancellationToken, ValueTask> onRejected)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(onRejected);
        return builder.WithSluiceMetadata(new RateLimitRejectionMetadata(onRejected));
    }

    private static TBuilder WithSluiceMetadata<TBuilder>(this TBuilder builder, object metadata)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }
}
