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

    /// <summary>
    /// A key written as a client sends it, in the form <see cref="Select"/> gives it (a route value lower-cased, an
    /// address as the layer groups it), so that an override set by hand reaches the requests it names. Unchanged
    /// unless the selector rewrites what it reads.
    /// </summary>
    public virtual string Canonical(string key) => key;
}
