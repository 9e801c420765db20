namespace Sluice.Server.Admin;

/// <summary>The body of <c>PUT /admin/keys/{keyId}/limits</c>: the rates that replace the <c>api-key</c> layer's for that key.</summary>
public sealed record SetLimitsRequest(IReadOnlyList<string?>? Rates);
