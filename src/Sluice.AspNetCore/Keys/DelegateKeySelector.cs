using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>A key chosen by user code (<c>Custom:&lt;name&gt;</c> or <see cref="SluiceLayerOptions.KeySelector"/>).</summary>
internal sealed class DelegateKeySelector(Func<HttpContext, string?> select) : RequestKeySelector
{
    public override string? Select(HttpContext context) => select(context);
}
