using Sluice.Server.Quotas;

namespace Sluice.Server.Certificates;

/// <summary>The body of <c>GET /api/me</c>: the account and its quota this month.</summary>
public sealed record MeResponse(long Id, string Name, string Plan, QuotaResponse Quota);
