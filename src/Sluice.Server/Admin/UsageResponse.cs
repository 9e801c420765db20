using Sluice.Server.Quotas;

namespace Sluice.Server.Admin;

/// <summary>The body of <c>GET /admin/accounts/{id}/usage</c>: the quota this month and each key's rate-limit windows.</summary>
public sealed record UsageResponse(AccountResponse Account, QuotaResponse Quota, IReadOnlyList<KeyUsageResponse> Keys);
