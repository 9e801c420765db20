using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>The <c>Route:&lt;name&gt;</c> key, e.g. <c>Route:domain</c> for per-domain limits. Compared case-insensitively (lower-cased).</summary>
internal sealed class RouteValueKeySelector(string name) : RequestKeySelector
{
    /// <summary>A route value is not a credential: logs show it as it is.</summary>
    public override bool KeyIsSecret => false;

    public override string? Select(HttpContext context)
    {
        var value = context.Request.RouteValues[name];
        var text = value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return Canonical(text);
    }

    /// <summary>Route values such as domain names are case-insensitive: Example.COM and example.com share a limit.</summary>
    public override string Canonical(string key) => key.Any(char.IsUpper) ? key.ToLowerInvariant() : key;
}
