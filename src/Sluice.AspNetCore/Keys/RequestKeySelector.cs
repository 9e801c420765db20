using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>Reads a layer's partition key from a request; <see langword="null"/> when the request has none, so the layer does not apply.</summary>
internal abstract class RequestKeySelector
{
    public abstract string? Select(HttpContext context);

    /// <summary>
    /// Whether the key may be a credential (an API key, a header's value, a delegate's choice): logs then show a
    /// fingerprint of it, never the key. <see langword="true"/> unless the selector knows better.
    /// </summary>
    public virtual bool KeyIsSecret => true;
}
