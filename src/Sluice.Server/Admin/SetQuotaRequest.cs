namespace Sluice.Server.Admin;

/// <summary>The body of <c>PUT /admin/accounts/{id}/quota</c>; null restores the plan's quota.</summary>
public sealed record SetQuotaRequest(long? MonthlyRecipients);
