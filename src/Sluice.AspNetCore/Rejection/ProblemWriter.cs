using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Rejection;

/// <summary>The default denial body: <c>application/problem+json</c> with <c>code</c>, <c>detail</c>, <c>retry_after</c> and <c>layer</c>.</summary>
internal static class ProblemWriter
{
    public static async ValueTask WriteAsync(RateLimitRejectedContext context, CancellationToken cancellationToken)
    {
        var response = context.HttpContext.Response;
        response.ContentType = "application/problem+json";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "https://www.rfc-editor.org/rfc/rfc6585#section-4");
            json.WriteString("title", "Too Many Requests");
            json.WriteNumber("status", response.StatusCode);
            json.WriteString("code", "RATE_LIMITED");
            json.WriteString("detail", context.Detail);
            if (context.RetryAfterSeconds is { } seconds)
            {
                json.WriteNumber("retry_after", seconds);
            }
            else
            {
                json.WriteNull("retry_after");
            }

            json.WriteString("layer", context.DenyingLayer);
            json.WriteEndObject();
        }

        response.ContentLength = buffer.Length;
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
    }
}
