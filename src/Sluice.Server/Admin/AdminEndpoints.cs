using Sluice.AspNetCore;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Data;
using Sluice.Server.Quotas;

namespace Sluice.Server.Admin;

/// <summary>
/// The operator's API under <c>/admin</c>: accounts, keys, per-key rate limits and per-account quotas. Guarded by the
/// admin token and exempt from every rate-limit layer.
/// </summary>
internal static class AdminEndpoints
{
    /// <summary>The layer whose rates <c>PUT /admin/keys/{id}/limits</c> replaces.</summary>
    public const string ApiKeyLayer = "api-key";

    public static void MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").RequireAdminToken().DisableRateLimit().WithTags("Admin");
        admin.MapPost("/accounts", CreateAccount).Produces<AccountResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest).WithName("CreateAccount").WithJsonBodyLimit(app);
        admin.MapPost("/accounts/{id:long}/keys", CreateKey).Produces<KeyCreatedResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status404NotFound).WithName("CreateKey");
        admin.MapDelete("/keys/{keyId:long}", RevokeKey).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).WithName("RevokeKey");
        admin.MapPut("/keys/{keyId:long}/limits", SetLimits).Produces<KeyLimitsResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).WithName("SetKeyLimits").WithJsonBodyLimit(app);
        admin.MapDelete("/keys/{keyId:long}/limits", RemoveLimits).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).WithName("RemoveKeyLimits");
        admin.MapPut("/accounts/{id:long}/quota", SetQuota).Produces<AccountResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).WithName("SetAccountQuota").WithJsonBodyLimit(app);
        admin.MapGet("/accounts/{id:long}/usage", GetUsage).Produces<UsageResponse>().ProducesProblem(StatusCodes.Status404NotFound).WithName("GetAccountUsage");
    }

    private static async Task<IResult> CreateAccount(CreateAccountRequest? request, ServerDb db, RecipientQuota quota, TimeProvider time, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request?.Name))
        {
            return ApiProblems.Invalid("name", "name is required.");
        }

        if (PrintedText.Problem("name", request.Name.Trim()) is { } problem)
        {
            return ApiProblems.Invalid(problem.Field, problem.Message);
        }

        var plan = string.IsNullOrWhiteSpace(request.Plan) ? "free" : request.Plan.Trim().ToLowerInvariant();
        if (!quota.IsKnownPlan(plan))
        {
            return ApiProblems.Invalid("plan", $"plan '{Echo.Of(request.Plan)}' is unknown; use one of: {string.Join(", ", quota.Plans)}.");
        }

        var account = new Account { Name = request.Name.Trim(), Plan = plan, CreatedAt = time.GetUtcNow() };
        db.Accounts.Add(account);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/admin/accounts/{account.Id}", AccountResponse.From(account, quota));
    }

    private static async Task<IResult> CreateKey(long id, ServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await db.Accounts.AnyAsync(a => a.Id == id, cancellationToken))
        {
            return ApiProblems.NotFound($"Account {id}");
        }

        var (record, secret) = NewKey(id, time);
        db.ApiKeys.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/admin/keys/{record.Id}", new KeyCreatedResponse(record.Id, secret, id, record.CreatedAt));
    }

    /// <summary>A new key for <paramref name="accountId"/> and its secret, which is not stored anywhere.</summary>
    internal static (ApiKeyRecord Record, string Secret) NewKey(long accountId, TimeProvider time)
    {
        var secret = Secrets.Create("sk_");
        return (new ApiKeyRecord { AccountId = accountId, Hash = Secrets.Hash(secret), Prefix = secret[..10], CreatedAt = time.GetUtcNow() }, secret);
    }

    private static async Task<IResult> RevokeKey(long keyId, ServerDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId, cancellationToken);
        if (key is null)
        {
            return ApiProblems.NotFound($"Key {keyId}");
        }

        key.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> SetLimits(long keyId, SetLimitsRequest? request, ServerDb db, SluiceLimits limits, ILogger<ApiKeyRecord> logger, CancellationToken cancellationToken)
    {
        if (request?.Rates is not { } rates || rates.Count == 0)
        {
            return ApiProblems.Invalid("rates", "rates is required: a non-empty array such as [\"600/min\"].");
        }

        // Kept and echoed in the canonical form (" 600 / MIN " is 600/min), as the usage endpoint shows rates.
        var canonical = new List<string>(rates.Count);
        for (var i = 0; i < rates.Count; i++)
        {
            if (!Rate.TryParse(rates[i], out var rate, out var error))
            {
                return ApiProblems.Invalid($"rates[{i}]", $"'{Echo.Of(rates[i])}' is not a valid rate: {Echo.Of(error, 200)}");
            }

            canonical.Add(rate.ToString());
        }

        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId, cancellationToken);
        if (key is null)
        {
            return ApiProblems.NotFound($"Key {keyId}");
        }

        try
        {
            await limits.SetOverrideAsync(ApiKeyLayer, KeyOf(keyId), canonical, cancellationToken);
        }
        catch (ArgumentException e)
        {
            // The message without .NET's " (Parameter 'rates')", which says nothing to an API client.
            return ApiProblems.Invalid("rates", e.Message.Split(" (Parameter")[0]);
        }

        var previous = key.RatesOverride;
        key.RatesOverride = string.Join(',', canonical);
        await SaveOrRestoreAsync(db, limits, keyId, previous, logger, cancellationToken);
        return TypedResults.Ok(new KeyLimitsResponse(keyId, ApiKeyLayer, canonical));
    }

    /// <summary>
    /// Saves a key's new rates after the store took them; when the save fails, the store gets the key's previous rates
    /// back (none: the layer's), so a change the client is told failed does not stay in force until the next restart.
    /// </summary>
    private static async Task SaveOrRestoreAsync(ServerDb db, SluiceLimits limits, long keyId, string? previous, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            try
            {
                if (previous is null)
                {
                    await limits.RemoveOverrideAsync(ApiKeyLayer, KeyOf(keyId), CancellationToken.None);
                }
                else
                {
                    await limits.SetOverrideAsync(ApiKeyLayer, KeyOf(keyId), previous.Split(','), CancellationToken.None);
                }
            }
            catch (Exception e)
            {
                // The save's failure is what the client hears (a 500); this one is for the operator.
                logger.LogError(e, "Could not restore the rates of key {KeyId} after saving its new rates failed; the store holds the new ones until a restart.", keyId);
            }

            throw;
        }
    }

    private static async Task<IResult> RemoveLimits(long keyId, ServerDb db, SluiceLimits limits, ILogger<ApiKeyRecord> logger, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId, cancellationToken);
        if (key is null)
        {
            return ApiProblems.NotFound($"Key {keyId}");
        }

        await limits.RemoveOverrideAsync(ApiKeyLayer, KeyOf(keyId), cancellationToken);
        var previous = key.RatesOverride;
        key.RatesOverride = null;
        await SaveOrRestoreAsync(db, limits, keyId, previous, logger, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> SetQuota(long id, SetQuotaRequest? request, ServerDb db, RecipientQuota quota, CancellationToken cancellationToken)
    {
        if (request is null || !request.HasMonthlyRecipients)
        {
            return ApiProblems.Invalid("monthly_recipients", "monthly_recipients is required (a number, or null to restore the plan's).");
        }

        if (request.MonthlyRecipients < 0)
        {
            return ApiProblems.Invalid("monthly_recipients", $"monthly_recipients is {request.MonthlyRecipients}; a quota must not be negative.");
        }

        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return ApiProblems.NotFound($"Account {id}");
        }

        account.MonthlyRecipientsOverride = request.MonthlyRecipients;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(AccountResponse.From(account, quota));
    }

    private static async Task<IResult> GetUsage(long id, ServerDb db, RecipientQuota quota, SluiceLimits limits, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return ApiProblems.NotFound($"Account {id}");
        }

        var usage = await quota.UsageAsync(account, cancellationToken);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.AccountId == id).OrderBy(k => k.Id).ToListAsync(cancellationToken);
        var keyUsage = new List<KeyUsageResponse>();
        foreach (var key in keys)
        {
            var statuses = await limits.GetUsageAsync(ApiKeyLayer, KeyOf(key.Id), cancellationToken);
            keyUsage.Add(new KeyUsageResponse(
                key.Id,
                key.Prefix,
                key.RevokedAt is not null,
                key.RatesOverride?.Split(','),
                statuses.Select(s => new RateUsageResponse(s.Rate.ToString(), s.Limit, s.Remaining, s.ResetAt.ToUnixTimeSeconds())).ToList()));
        }

        return TypedResults.Ok(new UsageResponse(
            AccountResponse.From(account, quota),
            new QuotaResponse(usage.Limit, usage.Used, usage.Remaining, RecipientQuota.FormatReset(usage.ResetsAt)),
            keyUsage));
    }

    /// <summary>The <c>api-key</c> layer's key for a key id (the limiter never sees the secret).</summary>
    internal static string KeyOf(long keyId) => keyId.ToString(CultureInfo.InvariantCulture);
}
