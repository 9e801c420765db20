namespace Sluice.Server.Api;

/// <summary>
/// HEAD wherever GET is answered, as every general-purpose HTTP server must (RFC 9110, section 9.1) and as deSEC's
/// Django views do: the same endpoint runs with the same limits, and its answer carries the same status and headers
/// (the rate-limit ones included), without a body (Kestrel sends none for HEAD). A HEAD counts as a read, as a GET
/// does. The OpenAPI document lists the GET operations only (<see cref="IsHead"/>).
/// </summary>
internal static class HeadRequests
{
    /// <summary>
    /// Adds HEAD to the methods of every endpoint of <paramref name="builder"/> that answers GET. It runs after every
    /// other convention, so it sees the methods an endpoint ends up with.
    /// </summary>
    public static TBuilder AnswerHeadWhereGet<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(static endpoint =>
        {
            if (endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault() is { } methods
                && methods.HttpMethods.Any(HttpMethods.IsGet)
                && !methods.HttpMethods.Any(HttpMethods.IsHead))
            {
                endpoint.Metadata.Add(new HttpMethodMetadata([.. methods.HttpMethods, HttpMethods.Head], methods.AcceptCorsPreflight));
            }
        });
        return builder;
    }

    /// <summary>Whether an API description is a HEAD operation, which the OpenAPI document leaves out: it is its GET's.</summary>
    public static bool IsHead(Microsoft.AspNetCore.Mvc.ApiExplorer.ApiDescription description)
        => description.HttpMethod is { } method && HttpMethods.IsHead(method);
}
