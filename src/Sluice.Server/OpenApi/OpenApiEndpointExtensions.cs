using Microsoft.OpenApi;

namespace Sluice.Server.OpenApi;

/// <summary>Endpoint conventions that feed the OpenAPI document.</summary>
internal static class OpenApiEndpointExtensions
{
    /// <summary>Documents the <c>X-Quota-*</c> headers and the 403 <c>QUOTA_EXCEEDED</c> answer on this endpoint.</summary>
    public static TBuilder WithQuotaHeaders<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(QuotaHeadersMetadata.Instance);

    /// <summary>Documents deSEC's error bodies (429, 404, and 400 on writes) on these endpoints instead of problem details.</summary>
    public static TBuilder WithDeSecBodies<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(DeSecBodiesMetadata.Instance);

    /// <summary>Documents deSEC's cursor pagination (the <c>cursor</c> parameter, <c>Link</c>, its 400 and 404) on this list.</summary>
    public static TBuilder WithCursorPagination<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(CursorPaginatedMetadata.Instance);

    /// <summary>Documents a query parameter the endpoint reads from the request itself rather than binds.</summary>
    public static RouteHandlerBuilder WithQueryParameter(this RouteHandlerBuilder builder, string name, string description)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Query,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
            return Task.CompletedTask;
        });
}
