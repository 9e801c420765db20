using Sluice.Server.Api;

namespace Sluice.Server.Auth;

/// <summary>Endpoint conventions for the API's authentication.</summary>
internal static class ApiKeyEndpointExtensions
{
    /// <summary>
    /// Answers 401 unless the request carries a valid, unrevoked API key: problem+json <c>UNAUTHORIZED</c>, or what
    /// <paramref name="unauthorized"/> makes of the request (the DNS API answers in deSEC's shape).
    /// </summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder, Func<HttpContext, IResult>? unauthorized = null)
        where TBuilder : IEndpointConventionBuilder
    {
        unauthorized ??= static _ => ApiProblems.Unauthorized("A valid API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.");
        builder.AddEndpointFilter((context, next) =>
            ApiCaller.From(context.HttpContext.User) is null
                ? ValueTask.FromResult<object?>(unauthorized(context.HttpContext))
                : next(context));
        return builder.WithMetadata(OpenApi.ApiKeyRequiredMetadata.Instance);
    }

    /// <summary>Answers 401 <c>UNAUTHORIZED</c> unless <c>Authorization: Bearer</c> carries the admin token.</summary>
    public static TBuilder RequireAdminToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(static (context, next) =>
        {
            var http = context.HttpContext;
            var presented = http.Request.Headers.Authorization.ToString();
            var ok = presented.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                && http.RequestServices.GetRequiredService<AdminToken>().Matches(presented["Bearer ".Length..].Trim());
            return ok
                ? next(context)
                : ValueTask.FromResult<object?>(ApiProblems.Unauthorized("The admin API needs 'Authorization: Bearer <Admin:Token>'."));
        });
        return builder.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]));
    }
}
