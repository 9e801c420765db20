using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Keys;

/// <summary>The <c>Global</c> key: every request shares one partition.</summary>
internal sealed class ConstantKeySelector : RequestKeySelector
{
    public static readonly ConstantKeySelector Instance = new();

    /// <summary>A constant is not a credential: logs show it as it is.</summary>
    public override bool KeyIsSecret => false;

    public override string? Select(HttpContext context) => "*";
}
