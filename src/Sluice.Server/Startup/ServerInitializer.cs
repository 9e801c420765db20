using Sluice.AspNetCore;
using Microsoft.EntityFrameworkCore;
using Sluice.Server.Admin;
using Sluice.Server.Auth;
using Microsoft.Extensions.Options;
using Sluice.Server.Data;
using Sluice.Server.Quotas;

namespace Sluice.Server.Startup;

/// <summary>
/// Runs once before the server listens: creates the database schema, resolves the admin token (configured, stored, or
/// generated and printed once), creates the demo account in Development; then, once endpoints are mapped, re-applies the
/// operator's per-key limits.
/// </summary>
internal static class ServerInitializer
{
    private const string AdminTokenSetting = "admin_token_sha256";

    public static async Task InitializeAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<ServerDb>();
        var time = services.GetRequiredService<TimeProvider>();
        var output = services.GetService<ServerConsole>()?.Out ?? Console.Out;

        var messages = new List<string>();
        var source = db.Database.GetDbConnection().DataSource;
        try
        {
            if (db.Database.IsSqlite() && source is { Length: > 0 } && Path.GetDirectoryName(Path.GetFullPath(source)) is { } directory)
            {
                Directory.CreateDirectory(directory);
            }

            // Instances that start together on one database file (replicas sharing a volume, a restart overlapping the
            // old process) take turns: the transaction takes SQLite's write lock first, so the next instance waits for
            // this one to create the schema, the admin token and the demo account, and then finds them instead of failing.
            await using var transaction = await db.Database.BeginTransactionAsync();
            await InitializeDataAsync(app, services, db, time, messages);
            await transaction.CommitAsync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            // A directory that cannot be made, a file that is not a database, one the server may not write: one line that
            // names the setting, not a stack trace from deep inside the provider.
            throw new ServerStartupException(
                $"The server cannot use its database '{source}' (ConnectionStrings:Sluice): {e.Message} Check that its directory exists or can be created, that the server may write there, and that the file, if it exists, is a SQLite database.",
                e);
        }

        // Printed once committed: a token or key shown to the operator exists.
        foreach (var message in messages)
        {
            await output.WriteLineAsync(message);
        }

        if (db.Database.IsSqlite())
        {
            // WAL lets readers proceed while a writer commits; the quota store uses the same file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;");
        }

        await WarnOfUnknownPlansAsync(services, db);
    }

    /// <summary>
    /// Accounts on a plan that <c>Quotas:Plans</c> no longer has get a quota of 0 (every new recipient refused, never
    /// unlimited): the operator hears it at startup, once per plan, rather than from the customers.
    /// </summary>
    private static async Task WarnOfUnknownPlansAsync(IServiceProvider services, ServerDb db)
    {
        var plans = services.GetRequiredService<IOptionsMonitor<QuotaOptions>>().CurrentValue.Plans;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sluice.Server.Startup");
        var inUse = await db.Accounts.AsNoTracking().Where(a => a.MonthlyRecipientsOverride == null)
            .GroupBy(a => a.Plan).Select(g => new { Plan = g.Key, Accounts = g.Count() }).ToListAsync();
        foreach (var group in inUse.Where(g => !plans.ContainsKey(g.Plan)).OrderBy(g => g.Plan, StringComparer.Ordinal))
        {
            logger.LogWarning(
                "{Accounts} account(s) are on plan '{Plan}', which Quotas:Plans does not have: their monthly recipient quota is 0, so every new recipient is refused, until the plan is configured or the account gets a quota of its own.",
                group.Accounts,
                group.Plan);
        }
    }

    private static async Task InitializeDataAsync(WebApplication app, IServiceProvider services, ServerDb db, TimeProvider time, List<string> messages)
    {
        await db.Database.EnsureCreatedAsync();
        var token = services.GetRequiredService<AdminToken>();
        var configured = app.Configuration["Admin:Token"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            token.Set(Secrets.Hash(configured.Trim()));
        }
        else if (await db.Settings.FindAsync(AdminTokenSetting) is { } stored)
        {
            token.Set(Convert.FromHexString(stored.Value));
        }
        else
        {
            var generated = Secrets.Create("adm_");
            db.Settings.Add(new ServerSetting { Name = AdminTokenSetting, Value = Convert.ToHexString(Secrets.Hash(generated)) });
            await db.SaveChangesAsync();
            token.Set(Secrets.Hash(generated));
            messages.Add("Sluice server: no Admin:Token is configured, so one was generated. It is shown only now:");
            messages.Add($"  export SLUICE_ADMIN_TOKEN={generated}");
        }

        if (app.Environment.IsDevelopment() && !await db.Accounts.AnyAsync())
        {
            var account = new Account { Name = "Demo", Plan = "free", CreatedAt = time.GetUtcNow() };
            db.Accounts.Add(account);
            await db.SaveChangesAsync();
            var (key, secret) = AdminEndpoints.NewKey(account.Id, time);
            db.ApiKeys.Add(key);
            await db.SaveChangesAsync();
            messages.Add($"Sluice server (Development): created demo account {account.Id} (plan free) and API key {key.Id}:");
            messages.Add($"  export SLUICE_API_KEY={secret}");
        }
    }

    /// <summary>
    /// Re-applies the operator's per-key rates to the rate-limit store (the in-memory store forgets them on restart; the
    /// database does not). It compiles Sluice's configuration; the checks against the endpoints run when the pipeline is
    /// built.
    /// </summary>
    public static async Task RestoreKeyLimitsAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDb>();
        var limits = scope.ServiceProvider.GetRequiredService<SluiceLimits>();
        var overridden = await db.ApiKeys.AsNoTracking().Where(k => k.RatesOverride != null && k.RevokedAt == null).ToListAsync();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Sluice.Server.Startup");
        foreach (var key in overridden)
        {
            try
            {
                await limits.SetOverrideAsync(AdminEndpoints.ApiKeyLayer, AdminEndpoints.KeyOf(key.Id), key.RatesOverride!.Split(','));
            }
            catch (ArgumentException e)
            {
                // The configuration changed since the rates were set (the layer is gone, or takes other rates): the key
                // has the layer's own rates, and its stored ones stay in the database, restored again once they fit.
                logger.LogWarning("The stored rates of key {KeyId} ({Rates}) do not fit the rate-limit configuration and were not restored: {Reason}", key.Id, key.RatesOverride, e.Message.Split(" (Parameter")[0]);
            }
            catch (Exception e)
            {
                // A shared store (Redis) that is down keeps its own copy of the overrides; the server still starts.
                logger.LogWarning(e, "Could not restore the rates of key {KeyId} to the rate-limit store.", key.Id);
            }
        }
    }
}
