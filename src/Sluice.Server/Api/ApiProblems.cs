namespace Sluice.Server.Api;

/// <summary>The API's errors: <c>application/problem+json</c> with a machine-readable <c>code</c>.</summary>
internal static class ApiProblems
{
    public static IResult Problem(int status, string code, string title, string? detail = null, IDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?> { ["code"] = code };
        if (extensions is not null)
        {
            foreach (var (name, value) in extensions)
            {
                all[name] = value;
            }
        }

        return TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: all);
    }

    public static IResult Unauthorized(string detail) => Problem(StatusCodes.Status401Unauthorized, "UNAUTHORIZED", "Unauthorized", detail);

    /// <summary>400 <c>VALIDATION_FAILED</c> naming the offending field.</summary>
    public static IResult Invalid(string field, string detail, int? row = null)
    {
        var extensions = new Dictionary<string, object?> { ["field"] = field };
        if (row is not null)
        {
            extensions["row"] = row;
        }

        return Problem(StatusCodes.Status400BadRequest, "VALIDATION_FAILED", "Validation failed", detail, extensions);
    }

    public static IResult NotFound(string what) => Problem(StatusCodes.Status404NotFound, "NOT_FOUND", "Not found", $"{what} does not exist.");

    public static IResult Unavailable(string detail)
        => Problem(StatusCodes.Status503ServiceUnavailable, "UNAVAILABLE", "Service unavailable", detail);
}
