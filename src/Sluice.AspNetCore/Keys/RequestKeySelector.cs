using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>Reads a layer's partition key from a request; <see langword="null"/> when the request has none, so the layer does not apply.</summary>
internal abstract class RequestKeySelector
{
    public abstract string? Select(HttpContext context);
}
