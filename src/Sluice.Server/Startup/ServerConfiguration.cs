using Microsoft.Data.Sqlite;
using Microsoft.AspNetCore.Routing;
using Sluice;
using Sluice.AspNetCore;
using Sluice.Configuration;
using Sluice.Server.Certificates;
using Sluice.Server.Quotas;

namespace Sluice.Server.Startup;

/// <summary>Reads and checks the server's own settings before anything starts, reporting every problem in one exception.</summary>
internal static class ServerConfiguration
{
    /// <summary>The SQLite connection string: <c>ConnectionStrings:Sluice</c>, else <c>sluice.db</c> next to the app.</summary>
    public static string ConnectionString(IConfiguration configuration)
        => configuration.GetConnectionString("Sluice") is { Length: > 0 } configured
            ? configured
            : $"Data Source={Path.Combine(AppContext.BaseDirectory, "sluice.db")}";

    /// <summary>
    /// The problems in the server's own settings (all but the <c>Sluice</c> section, which <see cref="Validate"/> checks
    /// with the endpoints). Read before the app is built; nothing is thrown yet, so that one message can list these with
    /// Sluice's.
    /// </summary>
    public static List<string> Check(IConfiguration configuration)
    {
        var problems = new List<string>();
        try
        {
            _ = new SqliteConnectionStringBuilder(ConnectionString(configuration));
        }
        catch (ArgumentException e)
        {
            problems.Add($"ConnectionStrings:Sluice is not a SQLite connection string: {e.Message}");
        }

        Bind<Admin.AdminOptions>(configuration, "Admin", problems, o => o.Validate());
        if (configuration["Sluice:Store"] is { } store && !IsRedis(store) && !string.Equals(store.Trim(), "Memory", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"Sluice:Store '{store}' is unknown; use Memory or Redis.");
        }

        Bind<QuotaOptions>(configuration, "Quotas", problems, o => o.Validate());
        if (IsRedis(configuration["Sluice:Store"]) || IsRedis(configuration["Quotas:Store"]))
        {
            // The store would only fail when first used, after the database is set up: check its settings now.
            Bind<Sluice.Redis.RedisRateLimitStoreOptions>(configuration, "Sluice:Redis", problems, o => [.. o.Validate()]);
        }

        Bind<Dns.DnsOptions>(configuration, "Dns", problems, o => o.Validate());
        Bind<BulkUploadOptions>(configuration, "Certificates", problems, o => o.Validate());
        return problems;
    }

    /// <summary>
    /// Checks the <c>Sluice</c> section (with <paramref name="sluiceCode"/>, the settings made in code) against the
    /// mapped endpoints, before the database is touched, and throws with every problem: Sluice's first, then
    /// <paramref name="serverProblems"/> from <see cref="Check"/>. Without endpoints (the app could not be built or
    /// mapped), or when reading them fails while the server's own settings are already at fault, the endpoint checks are
    /// left out.
    /// </summary>
    /// <exception cref="ServerStartupException">Lists every problem found.</exception>
    public static void Validate(IConfiguration configuration, Action<SluiceOptions> sluiceCode, List<string> serverProblems, IEndpointRouteBuilder? endpoints)
    {
        var section = configuration.GetSection("Sluice");
        IReadOnlyList<string> sluice;
        try
        {
            sluice = endpoints is null
                ? SluiceConfiguration.Validate(section, sluiceCode)
                : SluiceConfiguration.Validate(section, sluiceCode, endpoints.DataSources.SelectMany(s => s.Endpoints), MaxLayersPerDecision(configuration));
        }
        catch (Exception) when (serverProblems.Count > 0)
        {
            // An endpoint reads settings when it is built (the JSON body limit): those are already reported.
            sluice = SluiceConfiguration.Validate(section, sluiceCode);
        }

        var problems = sluice.Concat(serverProblems).ToList();
        if (problems.Count > 0)
        {
            throw new ServerStartupException("The server's configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)));
        }
    }

    /// <summary>What the configured store decides for one request at most.</summary>
    private static int MaxLayersPerDecision(IConfiguration configuration)
        => IsRedis(configuration["Sluice:Store"]) ? Sluice.Redis.RedisRateLimitStore.MaxLayersPerRequest : MemoryRateLimitStore.MaxLayersPerRequest;

    private static bool IsRedis(string? store) => string.Equals(store?.Trim(), "Redis", StringComparison.OrdinalIgnoreCase);

    private static void Bind<T>(IConfiguration configuration, string section, List<string> problems, Func<T, List<string>> validate)
        where T : new()
    {
        var options = new T();
        problems.AddRange(LenientBinder.Bind(configuration.GetSection(section), options));
        problems.AddRange(validate(options));
    }
}
