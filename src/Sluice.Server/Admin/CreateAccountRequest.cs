namespace Sluice.Server.Admin;

/// <summary>The body of <c>POST /admin/accounts</c>.</summary>
/// <param name="Name">The account's name; required.</param>
/// <param name="Plan">The plan (default <c>free</c>); one of those under <c>Quotas:Plans</c>.</param>
public sealed record CreateAccountRequest(string? Name, string? Plan);
