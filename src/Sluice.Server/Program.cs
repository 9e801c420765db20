using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using Sluice.AspNetCore;
using Sluice.Quotas;
using Sluice.Server;
using Sluice.Server.Admin;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Certificates;
using Sluice.Server.Data;
using Sluice.Server.Dns;
using Sluice.Server.OpenApi;
using Sluice.Server.Quotas;
using Sluice.Server.Startup;

try
{
    // appsettings.json is read from the working directory when it has one (`dotnet run` runs in the project directory, so
    // edits to the source file reload live), else from beside the app, so `dotnet Sluice.Server.dll` works from anywhere.
    var contentRoot = File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) ? Directory.GetCurrentDirectory() : AppContext.BaseDirectory;
    // --check-config: check the configuration as a start would, say whether it is valid, and stop (exit 0 or 1), touching
    // neither the database nor the network: for a deployment step, or before a restart.
    var checkOnly = args.Contains("--check-config", StringComparer.Ordinal);
    var hostArgs = args.Where(a => !string.Equals(a, "--check-config", StringComparison.Ordinal)).ToArray();
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = hostArgs, ContentRootPath = contentRoot });

    // http://127.0.0.1:5080 unless --urls, ASPNETCORE_URLS or URLS says otherwise.
    if (string.IsNullOrEmpty(builder.Configuration["urls"]))
    {
        builder.WebHost.UseUrls("http://127.0.0.1:5080");
    }

    StartupFailure.QuietHostErrorsUntilStarted(builder);

    // The Sluice settings made in code: the per-domain layer's key selector.
    Action<SluiceOptions> sluiceCode = o => o.KeySelectors[DnsEndpoints.AccountDomainKey] = DnsEndpoints.AccountDomain;
    var serverProblems = ServerConfiguration.Check(builder.Configuration);
    var connectionString = ServerConfiguration.ConnectionString(builder.Configuration);

    builder.Services.AddSluice(builder.Configuration.GetSection("Sluice"), sluiceCode);

    // Used only when Sluice:Store is "Redis" (Sluice:Redis:Configuration, Timeout, FailureMode, ...).
    builder.Services.AddSluiceRedis(builder.Configuration.GetSection("Sluice:Redis"));

    // EF Core logs every failed command and save as an error, also those an endpoint expects and answers (a domain name
    // that is taken): at Debug here. A failure no endpoint handles is still logged once, as an error, by ApiErrorMiddleware.
    builder.Services.AddDbContext<ServerDb>(o => o.UseSqlite(connectionString).AddInterceptors(new SqliteBusyTimeout())
        .ConfigureWarnings(w => w.Log((RelationalEventId.CommandError, LogLevel.Debug), (CoreEventId.SaveChangesFailed, LogLevel.Debug))));
    builder.Services.Configure<QuotaOptions>(builder.Configuration.GetSection("Quotas"));
    builder.Services.Configure<BulkUploadOptions>(builder.Configuration.GetSection("Certificates"));
    builder.Services.Configure<DnsOptions>(builder.Configuration.GetSection("Dns"));
    builder.Services.AddScoped<RRsetWriter>();
    builder.Services.AddSingleton(sp => new DomainWriteLocks(sp.GetRequiredService<Sluice.RateLimitStore>(), sp.GetRequiredService<TimeProvider>()));
    builder.Services.AddSingleton<QuotaStore>(sp =>
    {
        var time = sp.GetRequiredService<TimeProvider>();
        return string.Equals(sp.GetRequiredService<IOptions<QuotaOptions>>().Value.Store, "Redis", StringComparison.OrdinalIgnoreCase)
            ? new RedisQuotaStore(new RedisQuotaStoreOptions
            {
                Configuration = builder.Configuration["Sluice:Redis:Configuration"] ?? "127.0.0.1:6379",
                KeyPrefix = builder.Configuration["Sluice:Redis:KeyPrefix"] ?? "sluice:",
                TimeProvider = time,
            })
            : new SqliteQuotaStore(new SqliteQuotaStoreOptions { ConnectionString = connectionString, TimeProvider = time });
    });
    builder.Services.AddSingleton<RecipientQuota>();
    builder.Services.AddSingleton<AdminToken>();
    builder.Services.AddAuthentication(ApiClaims.Scheme).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiClaims.Scheme, null);

    builder.Services.Configure<JsonOptions>(o =>
    {
        o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.SerializerOptions.DictionaryKeyPolicy = null;
    });
    builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
    builder.Services.AddProblemDetails();
    builder.Services.AddOpenApi(o =>
    {
        o.AddOperationTransformer<LimitsOpenApiTransformer>();
        var include = o.ShouldInclude;
        o.ShouldInclude = description => !HeadRequests.IsHead(description) && include(description);
    });

    WebApplication app;
    try
    {
        app = builder.Build();
        app.UseStatusCodePages(EmptyErrorBodies.WriteAsync);
        app.UseMiddleware<ApiErrorMiddleware>();
        app.UseMiddleware<ForwardedOriginMiddleware>();
        app.UseRouting();
        app.UseAuthentication();
        app.UseSluice();
        // Every endpoint of the server, in one group without a prefix: whatever answers GET answers HEAD too.
        var server = app.MapGroup(string.Empty).AnswerHeadWhereGet();
        server.MapOpenApi();
        server.MapHealthChecks("/healthz/store").DisableRateLimit();
        server.MapReferenceEndpoints();
        server.MapCertificateEndpoints();
        server.MapAdminEndpoints();
        server.MapDnsEndpoints();
    }
    catch (Exception) when (serverProblems.Count > 0)
    {
        // Settings at fault can make building fail: report them, not what they broke.
        ServerConfiguration.Validate(builder.Configuration, sluiceCode, serverProblems, endpoints: null);
        throw;
    }

    // Every configuration problem, the endpoints' included, in one message before the database is created or migrated
    // (and, on a first start, before the admin token is printed).
    ServerConfiguration.Validate(builder.Configuration, sluiceCode, serverProblems, app);
    if (checkOnly)
    {
        await Console.Out.WriteLineAsync($"The server's configuration is valid ({app.Environment.EnvironmentName}, content root {app.Environment.ContentRootPath}).");
        return 0;
    }

    await ServerInitializer.InitializeAsync(app);
    await ServerInitializer.RestoreKeyLimitsAsync(app);
    StartupFailure.WatchForStart(app);
    await app.RunAsync();
}
catch (Exception e) when (StartupFailure.IsOwnProcess && StartupFailure.OperatorMessage(e) is { } message)
{
    // A configuration problem or an unusable database: the message alone, which names every setting at fault.
    await Console.Error.WriteLineAsync(message);
    return 1;
}

return 0;

/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
