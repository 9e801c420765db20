namespace Sluice.Server.Admin;

/// <summary>A key's rates after <c>PUT /admin/keys/{keyId}/limits</c>.</summary>
public sealed record KeyLimitsResponse(long KeyId, string Layer, IReadOnlyList<string> Rates);
