namespace Sluice.Server.Quotas;

/// <summary>The monthly unique-recipient quota: the limit, what is used and left, and when it resets (ISO 8601 UTC).</summary>
public sealed record QuotaResponse(long MonthlyRecipients, long Used, long Remaining, string ResetsAt);
