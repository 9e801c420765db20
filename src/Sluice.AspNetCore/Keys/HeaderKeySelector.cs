using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>The <c>Header:&lt;name&gt;</c> key: the header's first value, when present and not empty.</summary>
internal sealed class HeaderKeySelector(string header) : RequestKeySelector
{
    public override string? Select(HttpContext context)
    {
        var value = context.Request.Headers[header];
        return value.Count > 0 && !string.IsNullOrWhiteSpace(value[0]) ? value[0] : null;
    }
}
