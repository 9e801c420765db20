using Sluice.Server.Api;

namespace Sluice.Server;

/// <summary>
/// The reference server's own small endpoints: the health check (exempt from every layer) and CertDirectory's
/// public auth endpoint (3 per 15 minutes per IP). The certificates, DNS and admin APIs map their own endpoints.
/// </summary>
internal static class ReferenceEndpoints
{
    public static void MapReferenceEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).DisableRateLimit();
        app.MapPost("/api/auth/resend-verification-public", (ResendRequest request) =>
                string.IsNullOrWhiteSpace(request.Email) || !request.Email.Contains('@', StringComparison.Ordinal)
                    ? Results.Problem(statusCode: 400, title: "Invalid email", extensions: new Dictionary<string, object?> { ["code"] = "VALIDATION_FAILED", ["field"] = "email" })
                    : Results.Accepted())
            .Produces(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithJsonBodyLimit(app)
            .RequireRateLimit("auth");
    }

    /// <summary>The body of the resend request.</summary>
    /// <param name="Email">Where the verification mail goes.</param>
    internal sealed record ResendRequest(string? Email);
}
