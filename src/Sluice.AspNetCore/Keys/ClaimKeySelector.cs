using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>
/// The <c>User</c> key (the authenticated name, else the name identifier claim) and the <c>Claim:&lt;type&gt;</c> key.
/// Unauthenticated requests have none.
/// </summary>
internal sealed class ClaimKeySelector(string? claimType) : RequestKeySelector
{
    /// <summary>A claim value is not a credential: logs show it as it is.</summary>
    public override bool KeyIsSecret => false;

    public override string? Select(HttpContext context)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        return claimType is null
            ? user.Identity.Name ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value
            : user.FindFirst(claimType)?.Value;
    }
}
