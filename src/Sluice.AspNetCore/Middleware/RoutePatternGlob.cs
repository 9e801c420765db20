using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Sluice.AspNetCore.Middleware;

/// <summary>
/// Matches an endpoint's route template, as mapped (<c>/api/v1/domains/{name}/rrsets/</c>), against a configured
/// pattern in which <c>*</c> stands for any run of characters, slashes included. Case-insensitive.
/// </summary>
internal static class RoutePatternGlob
{
    /// <summary>The endpoint's route template with one leading slash; null for an endpoint without a route.</summary>
    public static string? TemplateOf(Endpoint endpoint)
        => endpoint is RouteEndpoint { RoutePattern.RawText: { } raw } ? "/" + raw.TrimStart('/') : null;

    public static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t]))
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                // Let the last star take one more character, and retry the rest of the pattern from there.
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
