using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Sluice.AspNetCore;

namespace Sluice.Server.OpenApi;

/// <summary>
/// Describes what the limits add to each operation: 429 <c>RATE_LIMITED</c> with <c>Retry-After</c> on every
/// rate-limited endpoint, the <c>X-RateLimit-*</c> headers on API-key endpoints, 401 on endpoints that need a key, and
/// 403 <c>QUOTA_EXCEEDED</c> with the <c>X-Quota-*</c> headers where the monthly quota is charged. The DNS API's
/// endpoints answer with deSEC's bodies instead: 429 <c>{"detail": "Request was throttled. ..."}</c>, 404
/// <c>{"detail": "Not found."}</c>, 401 <c>{"detail": "Invalid token."}</c> and 400 field errors.
/// </summary>
internal sealed class LimitsOpenApiTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var limited = !metadata.OfType<DisableRateLimitAttribute>().Any();
        var apiKey = metadata.OfType<ApiKeyRequiredMetadata>().Any();
        var quota = metadata.OfType<QuotaHeadersMetadata>().Any();
        var deSec = metadata.OfType<DeSecBodiesMetadata>().Any();
        var paginated = metadata.OfType<CursorPaginatedMetadata>().Any();
        operation.Responses ??= [];

        if (apiKey && deSec)
        {
            DeSecDetail(operation, "401", "No token, or an unknown or revoked one: deSEC's body, {\"detail\": \"Invalid token.\"} (or \"Authentication credentials were not provided.\"), with WWW-Authenticate: Token.");
        }
        else if (apiKey)
        {
            Problem(operation, "401", "No API key, or an unknown or revoked one (code UNAUTHORIZED).");
        }

        if (quota)
        {
            var forbidden = Problem(operation, "403", "The monthly quota of unique recipients is used up (code QUOTA_EXCEEDED, with limit, used and resets_at).");
            AddQuotaHeaders(forbidden);
        }

        if (deSec)
        {
            // Deleting a domain that does not exist answers 204, as deSEC does: only the domain's other routes answer 404.
            var parameters = context.Description.ParameterDescriptions;
            var namesADomain = parameters.Any(p => p.Name == "name") && !(context.Description.HttpMethod == "DELETE" && !parameters.Any(p => p.Name == "path"));
            DeSecErrors(operation, context.Description.HttpMethod, namesADomain);
        }

        if (paginated)
        {
            Paginated(operation, namesADomain: deSec && context.Description.ParameterDescriptions.Any(p => p.Name == "name"));
            if (deSec && context.Description.ParameterDescriptions.Any(p => p.Name == "type"))
            {
                DeSecDetail(operation, "403", "The type filter names a type the operator manages (SOA, RRSIG, NSEC, ...): {\"detail\": \"You cannot tinker with the SOA RRset.\"}.");
            }
        }

        if (limited)
        {
            var throttled = deSec
                ? DeSecDetail(operation, "429", "A rate-limit layer denied the request: deSEC's body, {\"detail\": \"Request was throttled. Expected available in 1 second.\"}; retry after Retry-After seconds.")
                : Problem(operation, "429", "A rate-limit layer denied the request (code RATE_LIMITED); retry after Retry-After seconds.");
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

        var response = Body(description, "application/problem+json", new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["code"] = new OpenApiSchema { Type = JsonSchemaType.String },
            },
        });
        operation.Responses[status] = response;
        return response;
    }

    /// <summary>deSEC's 404 on a domain's routes (<paramref name="namesADomain"/>), and its 400 field errors on writes.</summary>
    private static void DeSecErrors(OpenApiOperation operation, string? method, bool namesADomain)
    {
        if (namesADomain)
        {
            DeSecDetail(operation, "404", "No such domain (or RRset) of this account: {\"detail\": \"Not found.\"}.");
        }

        if (method is "POST" or "PUT" or "PATCH")
        {
            var fieldErrors = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                AdditionalProperties = new OpenApiSchema
                {
                    OneOf = [new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } }, new OpenApiSchema { Type = JsonSchemaType.String }],
                },
            };
            operation.Responses![StatusCodes.Status400BadRequest.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Body(
                "Invalid input, as deSEC answers it: each field's messages ({\"ttl\": [\"A valid integer is required.\"]}), one such object per item of a bulk request, or {\"detail\": ...} for a body that is not JSON.",
                "application/json",
                new OpenApiSchema { OneOf = [fieldErrors, new OpenApiSchema { Type = JsonSchemaType.Array, Items = fieldErrors }] });
            DeSecDetail(operation, "413", "The body is larger than Dns:MaxBodyBytes (4 MiB by default); it was not read: {\"detail\": ...}.");
        }
    }

    /// <summary>deSEC's cursor pagination: the <c>cursor</c> parameter, <c>Link</c> on 200, and its 400 and 404.</summary>
    private static void Paginated(OpenApiOperation operation, bool namesADomain)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "cursor",
            In = ParameterLocation.Query,
            Description = "A page of the list: empty for the first, else as a Link header gave it. Without it, a list longer than a page (Dns:PageSize, 500 by default) is refused with 400.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });
        foreach (var (status, response) in operation.Responses!)
        {
            if (status.StartsWith('2') && response is OpenApiResponse success)
            {
                Header(success, "Link", "When the list spans pages: the first page, and the previous and next where there are such (rel=\"first\", \"prev\", \"next\"), as absolute URLs.", JsonSchemaType.String);
            }
        }

        var required = DeSecDetail(operation, "400", "The list is longer than a page and no cursor was sent: {\"detail\": \"Pagination required. You can query up to 500 items at a time (N total). Please use the `first` page link (see Link header).\"}.");
        Header(required, "Link", "The first page (rel=\"first\").", JsonSchemaType.String);
        DeSecDetail(operation, "404", namesADomain
            ? "No such domain of this account ({\"detail\": \"Not found.\"}), or a cursor this server did not make ({\"detail\": \"Invalid cursor\"})."
            : "A cursor this server did not make: {\"detail\": \"Invalid cursor\"}.");
    }

    /// <summary>A response whose body is deSEC's <c>{"detail": "..."}</c>.</summary>
    private static OpenApiResponse DeSecDetail(OpenApiOperation operation, string status, string description)
    {
        var response = Body(description, "application/json", new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema> { ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String } },
            Required = new HashSet<string> { "detail" },
        });
        operation.Responses![status] = response;
        return response;
    }

    /// <summary>A response with one body of <paramref name="mediaType"/>.</summary>
    private static OpenApiResponse Body(string description, string mediaType, OpenApiSchema schema) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { [mediaType] = new() { Schema = schema } },
    };

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
