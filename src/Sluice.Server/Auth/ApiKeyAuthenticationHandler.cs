using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sluice.Server.Data;

namespace Sluice.Server.Auth;

/// <summary>
/// Reads an API key from <c>Authorization: Bearer|Token &lt;key&gt;</c> or <c>X-API-Key</c>, hashes it and looks the hash
/// up among keys that are not revoked. A missing or unknown key leaves the request anonymous: endpoints that need a key
/// answer 401 themselves, after the rate-limit layers have counted the request. Revocation applies to the next request
/// (nothing is cached).
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Path.StartsWithSegments("/admin") || ReadKey(Request) is not { Length: > 0 } key)
        {
            return AuthenticateResult.NoResult();
        }

        var hash = Secrets.Hash(key);
        var db = Context.RequestServices.GetRequiredService<ServerDb>();
        var record = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => new { k.Id, k.AccountId, k.Hash })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (record is null || !Secrets.HashEquals(record.Hash, hash))
        {
            return AuthenticateResult.NoResult();
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ApiClaims.KeyId, record.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ApiClaims.AccountId, record.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ],
            ApiClaims.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiClaims.Scheme));
    }

    /// <summary>The key from <c>Authorization</c> (Bearer or Token scheme) or else <c>X-API-Key</c>.</summary>
    internal static string? ReadKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        foreach (var scheme in (ReadOnlySpan<string>)["Bearer ", "Token "])
        {
            if (authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                return authorization[scheme.Length..].Trim();
            }
        }

        return request.Headers["X-API-Key"].ToString().Trim();
    }
}
