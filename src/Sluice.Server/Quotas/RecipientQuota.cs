using System.Globalization;
using Microsoft.Extensions.Options;
using Sluice.Quotas;
using Sluice.Server.Data;

namespace Sluice.Server.Quotas;

/// <summary>
/// The monthly quota of unique certificate recipients per account: the plan's number (or the account's override),
/// counted by <see cref="QuotaStore"/> on the normalised (trimmed, lower-case) e-mail address.
/// </summary>
internal sealed class RecipientQuota(QuotaStore store, IOptionsMonitor<QuotaOptions> options)
{
    public const string Name = "recipients";

    public bool IsKnownPlan(string plan) => options.CurrentValue.Plans.ContainsKey(plan);

    public IEnumerable<string> Plans => options.CurrentValue.Plans.Keys;

    public long LimitOf(Account account)
        => account.MonthlyRecipientsOverride ?? (options.CurrentValue.Plans.TryGetValue(account.Plan, out var limit) ? limit : 0);

    public ValueTask<QuotaDecision> ChargeAsync(Account account, string email, CancellationToken cancellationToken)
        => store.ChargeAsync(new QuotaRequest(Name, Subject(account), Normalise(email), LimitOf(account), QuotaPeriod.Month), cancellationToken);

    /// <summary>Charges many recipients at once (one transaction or round trip), each as if on its own, in order.</summary>
    public ValueTask<IReadOnlyList<QuotaDecision>> ChargeManyAsync(Account account, IEnumerable<string> emails, CancellationToken cancellationToken)
    {
        var limit = LimitOf(account);
        var subject = Subject(account);
        return store.ChargeManyAsync([.. emails.Select(e => new QuotaRequest(Name, subject, Normalise(e), limit, QuotaPeriod.Month))], cancellationToken);
    }

    /// <summary>Takes back a recipient charged by a request that then failed; a failure here is logged, never thrown.</summary>
    public async Task RefundAsync(Account account, string email, ILogger logger)
    {
        try
        {
            await store.RefundAsync(new QuotaRequest(Name, Subject(account), Normalise(email), LimitOf(account), QuotaPeriod.Month));
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not refund recipient {Email} of account {AccountId} after a failed issue.", email, account.Id);
        }
    }

    public ValueTask<QuotaUsage> UsageAsync(Account account, CancellationToken cancellationToken)
        => store.GetUsageAsync(Name, Subject(account), LimitOf(account), QuotaPeriod.Month, cancellationToken);

    public static string Normalise(string email) => email.Trim().ToLowerInvariant();

    /// <summary>Writes <c>X-Quota-Limit</c>, <c>X-Quota-Remaining</c> and <c>X-Quota-Reset</c> (Unix seconds of the 1st of next month).</summary>
    public static void WriteHeaders(HttpResponse response, long limit, long remaining, DateTimeOffset resetsAt)
    {
        response.Headers["X-Quota-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Quota-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Quota-Reset"] = resetsAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The 403 <c>QUOTA_EXCEEDED</c> answer, with its headers.</summary>
    public static IResult Exceeded(HttpResponse response, QuotaDecision decision)
    {
        WriteHeaders(response, decision.Limit, decision.Remaining, decision.ResetsAt);
        return Api.ApiProblems.Problem(
            StatusCodes.Status403Forbidden,
            "QUOTA_EXCEEDED",
            "Monthly quota exceeded",
            $"This account's plan allows {decision.Limit} unique recipients per calendar month; {decision.Used} are used. It resets at {FormatReset(decision.ResetsAt)}.",
            new Dictionary<string, object?> { ["limit"] = decision.Limit, ["used"] = decision.Used, ["resets_at"] = FormatReset(decision.ResetsAt) });
    }

    public static string FormatReset(DateTimeOffset resetsAt) => resetsAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Subject(Account account) => account.Id.ToString(CultureInfo.InvariantCulture);
}
