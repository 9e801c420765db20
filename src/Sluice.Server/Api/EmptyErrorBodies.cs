using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Sluice.Server.Api;

/// <summary>
/// Gives a body to error responses that have none (no route: 404, wrong method: 405, a body past the endpoint's size
/// limit, which the server refuses before the endpoint runs: 413, wrong content type: 415): a
/// problem+json with a <c>code</c> on the CertDirectory API and the admin API, deSEC's <c>{"detail": "..."}</c> on the
/// DNS API, so every error a client sees is one it can parse.
/// </summary>
internal static class EmptyErrorBodies
{
    /// <summary>Quotes written as <c>\"</c>, as deSEC writes them, not <c>\u0022</c>.</summary>
    private static readonly JsonSerializerOptions DeSecJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var (code, title) = status switch
        {
            StatusCodes.Status404NotFound => ("NOT_FOUND", "Not found"),
            StatusCodes.Status405MethodNotAllowed => ("METHOD_NOT_ALLOWED", "Method not allowed"),
            StatusCodes.Status415UnsupportedMediaType => ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
            StatusCodes.Status413PayloadTooLarge => ("PAYLOAD_TOO_LARGE", "Payload too large"),
            _ => ("HTTP_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture), "Request failed"),
        };
        // Django REST Framework's messages, which deSEC answers with.
        var detail = status switch
        {
            StatusCodes.Status415UnsupportedMediaType => $"Unsupported media type \"{http.Request.ContentType}\" in request.",
            StatusCodes.Status405MethodNotAllowed => $"Method \"{Echo.Of(http.Request.Method)}\" not allowed.",
            StatusCodes.Status404NotFound => "Not found.",
            StatusCodes.Status413PayloadTooLarge when http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } max
                => $"The request body is larger than {max} bytes.",
            _ => title + ".",
        };

        if (http.Request.Path.StartsWithSegments("/api/v1"))
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["detail"] = detail }, DeSecJson));
            return;
        }

        await ApiProblems.Problem(status, code, title, detail).ExecuteAsync(http);
    }
}
