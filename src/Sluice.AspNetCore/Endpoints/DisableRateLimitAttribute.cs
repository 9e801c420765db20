namespace Sluice.AspNetCore;

/// <summary>
/// Exempts an endpoint from every layer, global ones included: no decision, no charge, no headers.
/// The same metadata as <c>DisableRateLimit()</c>; it wins over any <see cref="RateLimitAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DisableRateLimitAttribute : Attribute
{
}
