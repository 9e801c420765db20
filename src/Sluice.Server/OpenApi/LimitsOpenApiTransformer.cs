using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Sluice.AspNetCore;

namespace Sluice.Server.OpenApi;

/// <summary>
/// Describes what the limits add to each operation: 429 <c>RATE_LIMITED</c> with <c>Retry-After</c> on every
/// rate-limited endpoint, the <c>X-RateLimit-*</c> headers on API-key endpoints, 401 on endpoints that need a key, and
/// 403 <c>QUOTA_EXCEEDED</c> with the <c>X-Quota-*</c> headers where the monthly quota is charged.
/// </summary>
internal sealed class LimitsOpenApiTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var limited = !metadata.OfType<DisableRateLimitAttribute>().Any();
        var apiKey = metadata.OfType<ApiKeyRequiredMetadata>().Any();
        var quota = metadata.OfType<QuotaHeadersMetadata>().Any();
        operation.Responses ??= [];

        if (apiKey)
        {
            Problem(operation, "401", "No API key, or an unknown or revoked one (code UNAUTHORIZED).");
        }

        if (quota)
        {
            var forbidden = Problem(operation, "403", "The monthly quota of unique recipients is used up (code QUOTA_EXCEEDED, with limit, used and resets_at).");
            AddQuotaHeaders(forbidden);
        }

        if (limited)
        {
            var throttled = Problem(operation, "429", "A rate-limit layer denied the request (code RATE_LIMITED); retry after Retry-After seconds.");
            Header(throttled, "Retry-After", "Seconds to wait before the same request would pass.", JsonSchemaType.Integer);
            if (apiKey)
            {
                AddRateLimitHeaders(throttled);
            }
        }

        foreach (var (status, response) in operation.Responses)
        {
            if (status.StartsWith('2') && response is OpenApiResponse success)
            {
                if (limited && apiKey)
                {
                    AddRateLimitHeaders(success);
                }

                if (quota)
                {
                    AddQuotaHeaders(success);
                }
            }
        }

        return Task.CompletedTask;
    }

    private static OpenApiResponse Problem(OpenApiOperation operation, string status, string description)
    {
        if (operation.Responses!.TryGetValue(status, out var existing) && existing is OpenApiResponse known)
        {
            known.Description = description;
            return known;
        }

        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        },
                    },
                },
            },
        };
        operation.Responses[status] = response;
        return response;
    }

    private static void AddRateLimitHeaders(OpenApiResponse response)
    {
        Header(response, "X-RateLimit-Limit", "The API key's limit per window (60/min unless the operator raised it).", JsonSchemaType.Integer);
        Header(response, "X-RateLimit-Remaining", "Requests left in the current window.", JsonSchemaType.Integer);
        Header(response, "X-RateLimit-Reset", "Unix time (seconds) at which the current window resets.", JsonSchemaType.Integer);
    }

    private static void AddQuotaHeaders(OpenApiResponse response)
    {
        Header(response, "X-Quota-Limit", "Unique recipients allowed this calendar month (UTC).", JsonSchemaType.Integer);
        Header(response, "X-Quota-Remaining", "Unique recipients left this month.", JsonSchemaType.Integer);
        Header(response, "X-Quota-Reset", "Unix time (seconds) of the 1st of next month, 00:00 UTC, when usage resets.", JsonSchemaType.Integer);
    }

    private static void Header(OpenApiResponse response, string name, string description, JsonSchemaType type)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } };
    }
}
