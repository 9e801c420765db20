namespace Sluice.Server.Admin;

/// <summary>One key's state: whether it is revoked, its override if any, and its <c>api-key</c> windows now.</summary>
public sealed record KeyUsageResponse(long Id, string Prefix, bool Revoked, IReadOnlyList<string>? RatesOverride, IReadOnlyList<RateUsageResponse> RateLimits);
