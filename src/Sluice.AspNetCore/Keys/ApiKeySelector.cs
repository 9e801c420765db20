using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>
/// The <c>ApiKey</c> key: the credential of <c>Authorization: &lt;scheme&gt; &lt;key&gt;</c> for a configured scheme
/// (Bearer and Token by default), else the configured header (<c>X-API-Key</c>).
/// </summary>
internal sealed class ApiKeySelector : RequestKeySelector
{
    private readonly string[] _schemes;
    private readonly string? _header;

    public ApiKeySelector(SluiceApiKeyOptions options)
    {
        _schemes = options.AuthorizationSchemes.Count > 0 ? [.. options.AuthorizationSchemes] : ["Bearer", "Token"];
        _header = string.IsNullOrWhiteSpace(options.Header) ? null : options.Header;
    }

    public override string? Select(HttpContext context)
    {
        var headers = context.Request.Headers;
        // The typed property: a field read on Kestrel's request headers instead of a dictionary lookup.
        var authorization = headers.Authorization;
        if (authorization.Count > 0 && authorization[0] is { Length: > 0 } value)
        {
            foreach (var scheme in _schemes)
            {
                if (value.Length > scheme.Length + 1
                    && value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
                    && value[scheme.Length] == ' ')
                {
                    var key = value.AsSpan(scheme.Length + 1).Trim();
                    return key.IsEmpty ? null : key.ToString();
                }
            }
        }

        if (_header is not null)
        {
            var header = headers[_header];
            if (header.Count > 0 && !string.IsNullOrWhiteSpace(header[0]))
            {
                return header[0];
            }
        }

        return null;
    }
}
