using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;
using Sluice.Quotas;

namespace Sluice.Server.Api;

/// <summary>
/// Turns what escapes an endpoint into problem+json: unreadable requests (bad JSON, wrong content type, a body too
/// large) keep their 4xx status with a <c>code</c> and, for JSON, the offending field; an unavailable quota store is
/// a 503 with <c>Retry-After</c>; anything else is a logged 500 without internals.
/// </summary>
internal sealed partial class ApiErrorMiddleware(RequestDelegate next, ILogger<ApiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is BadHttpRequestException or QuotaStoreUnavailableException or JsonException)
        {
            var (result, retryAfter) = e switch
            {
                BadHttpRequestException bad => (BadRequest(bad), (int?)null),
                JsonException json => (JsonProblem(json), null),
                _ => (ApiProblems.Unavailable("The quota store is unavailable; nothing was charged. Retry shortly."), 1),
            };
            if (e is QuotaStoreUnavailableException)
            {
                logger.LogWarning(e, "The quota store is unavailable.");
            }

            ClearKeepingRateLimitHeaders(context.Response);
            if (retryAfter is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await result.ExecuteAsync(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(e, "The request failed.");
            ClearKeepingRateLimitHeaders(context.Response);
            await ApiProblems.Problem(StatusCodes.Status500InternalServerError, "INTERNAL_ERROR", "Internal error", "The server could not complete the request; nothing was charged. Try again later.").ExecuteAsync(context);
        }
    }

    /// <summary>The headers Sluice writes on every request it decided, which an error answer keeps.</summary>
    private static readonly string[] s_rateLimitHeaders = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit"];

    /// <summary>
    /// Clears what the endpoint started to answer (status, headers, buffered body) but keeps the rate-limit headers Sluice
    /// wrote before it: the request was counted, and every API-key request carries them, errors included.
    /// </summary>
    private static void ClearKeepingRateLimitHeaders(HttpResponse response)
    {
        var kept = new StringValues[s_rateLimitHeaders.Length];
        for (var i = 0; i < s_rateLimitHeaders.Length; i++)
        {
            kept[i] = response.Headers[s_rateLimitHeaders[i]];
        }

        response.Clear();
        for (var i = 0; i < s_rateLimitHeaders.Length; i++)
        {
            if (kept[i].Count > 0)
            {
                response.Headers[s_rateLimitHeaders[i]] = kept[i];
            }
        }
    }

    private static IResult BadRequest(BadHttpRequestException e)
    {
        if (e.InnerException is JsonException json)
        {
            return JsonProblem(json);
        }

        if (e.StatusCode == StatusCodes.Status400BadRequest && UnboundParameter(e.Message) is { } unbound)
        {
            return ApiProblems.Invalid(unbound.Name, $"{unbound.Name} '{Echo.Of(unbound.Value)}' is not {unbound.Expected}.");
        }

        var code = e.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            StatusCodes.Status415UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            _ => "BAD_REQUEST",
        };
        return ApiProblems.Problem(e.StatusCode, code, "Bad request", e.Message);
    }

    /// <summary>
    /// The query or header value ASP.NET Core could not convert (its message: <c>Failed to bind parameter "Nullable&lt;int&gt;
    /// page" from "abc".</c>), so that the 400 names the field, as every other validation error does, instead of a .NET type.
    /// </summary>
    private static (string Name, string Value, string Expected)? UnboundParameter(string message)
    {
        var match = UnboundParameterMessage().Match(message);
        if (!match.Success)
        {
            return null;
        }

        var expected = match.Groups["type"].Value switch
        {
            "int" or "Nullable<int>" => "a whole number from -2147483648 to 2147483647",
            "long" or "Nullable<long>" => "a whole number",
            "bool" or "Nullable<bool>" => "true or false",
            _ => "a valid value",
        };
        return (match.Groups["name"].Value, match.Groups["value"].Value, expected);
    }

    /// <summary>
    /// A body that is not JSON, or a value of the wrong JSON type, as a 400 in the client's terms: the field and where,
    /// without the serializer's .NET type names and advice to the server's developer.
    /// </summary>
    private static IResult JsonProblem(JsonException e)
    {
        var field = FieldOf(e);
        if (e.InnerException is InvalidOperationException text && text.Message.Contains(" UTF-16 JSON text", StringComparison.Ordinal))
        {
            return ApiProblems.Invalid(field, $"{field} is not valid text: it escapes a lone UTF-16 surrogate.");
        }

        if (e.Message.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal))
        {
            return field == "body"
                ? ApiProblems.Invalid(field, "The body must be a JSON object.")
                : ApiProblems.Invalid(field, $"{field} has the wrong JSON type, or a number out of range.");
        }

        var reason = e.Message;
        if (reason.IndexOf(" Path: ", StringComparison.Ordinal) is var path and > 0)
        {
            reason = reason[..path];
        }

        reason = reason.Replace(" Change the reader options.", string.Empty, StringComparison.Ordinal);
        var where = e.LineNumber is { } line && e.BytePositionInLine is { } position
            ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, byte {position + 1})")
            : string.Empty;
        return ApiProblems.Invalid("body", $"The body is not valid JSON{where}: {reason}");
    }

    /// <summary>The JSON path of the error as a field name: <c>$.rates[1]</c> becomes <c>rates[1]</c>; the body itself is <c>body</c>.</summary>
    private static string FieldOf(JsonException e)
        => e.Path is { Length: > 1 } path ? path.TrimStart('$').TrimStart('.') : "body";

    [GeneratedRegex("^Failed to bind parameter \"(?<type>.+) (?<name>[^ \"]+)\" from \"(?<value>.*)\"\\.$", RegexOptions.Singleline)]
    private static partial Regex UnboundParameterMessage();
}
