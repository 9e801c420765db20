using Sluice.Server.Data;
using Sluice.Server.Quotas;

namespace Sluice.Server.Admin;

/// <summary>An account as the admin API shows it, with the quota that applies to it.</summary>
public sealed record AccountResponse(long Id, string Name, string Plan, long MonthlyRecipients, long? MonthlyRecipientsOverride, DateTimeOffset CreatedAt)
{
    internal static AccountResponse From(Account a, RecipientQuota quota)
        => new(a.Id, a.Name, a.Plan, quota.LimitOf(a), a.MonthlyRecipientsOverride, a.CreatedAt);
}
