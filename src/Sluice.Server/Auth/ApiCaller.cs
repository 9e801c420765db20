using System.Globalization;
using System.Security.Claims;

namespace Sluice.Server.Auth;

/// <summary>The authenticated key and account of a request, read from its claims.</summary>
internal readonly record struct ApiCaller(long KeyId, long AccountId)
{
    public static ApiCaller? From(ClaimsPrincipal user)
        => user.FindFirst(ApiClaims.KeyId)?.Value is { } key && user.FindFirst(ApiClaims.AccountId)?.Value is { } account
            ? new ApiCaller(long.Parse(key, CultureInfo.InvariantCulture), long.Parse(account, CultureInfo.InvariantCulture))
            : null;

    public static ApiCaller Of(HttpContext context)
        => From(context.User) ?? throw new InvalidOperationException("The endpoint requires an API key but has no RequireApiKey filter.");
}
