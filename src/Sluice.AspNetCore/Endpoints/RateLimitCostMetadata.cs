using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore;

/// <summary>The cost of a request to an endpoint (a bulk endpoint costs 1 whatever it carries). The nearest metadata wins.</summary>
/// <param name="Cost">Computes the cost; must not be negative.</param>
public sealed record RateLimitCostMetadata(Func<HttpContext, long> Cost);
