using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Sluice.Server.Certificates;

namespace Sluice.Server.Api;

/// <summary>
/// Bounds the JSON body of an endpoint of the CertDirectory or admin API to <see cref="BulkUploadOptions.JsonMaxBytes"/>:
/// the server stops reading past it, the endpoint does not run, and the answer is 413 <c>PAYLOAD_TOO_LARGE</c> (its body
/// written by <see cref="EmptyErrorBodies"/>), instead of parsing whatever the 30 MB server-wide limit lets through.
/// Kestrel enforces it; the in-memory test server does not.
/// </summary>
internal static class JsonBodyLimit
{
    public static RouteHandlerBuilder WithJsonBodyLimit(this RouteHandlerBuilder builder, IEndpointRouteBuilder app)
    {
        var max = app.ServiceProvider.GetRequiredService<IOptions<BulkUploadOptions>>().Value.JsonMaxBytes;
        return builder.WithMetadata(new RequestSizeLimitAttribute(max)).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
    }
}
