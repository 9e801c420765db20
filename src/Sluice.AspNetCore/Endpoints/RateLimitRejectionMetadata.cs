namespace Sluice.AspNetCore;

/// <summary>Writes the denial response of an endpoint or route group instead of the default. The nearest metadata wins.</summary>
/// <param name="OnRejected">Writes the response; status code and headers are already set.</param>
public sealed record RateLimitRejectionMetadata(Func<RateLimitRejectedContext, CancellationToken, ValueTask> OnRejected);
