using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Server.Startup;
using Sluice.Testing;

namespace Sluice.Server.Tests;

/// <summary>
/// The reference server on the test host with a real SQLite file in a fresh directory, a known admin token, a fake
/// clock, and every request coming from 127.0.0.1 (as Kestrel would report a local client).
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token-0123456789";

    private readonly WebApplicationFactory<Program> _factory;
    private readonly bool _ownsDirectory;

    /// <param name="settings">Configuration over the defaults (a fresh SQLite file, <see cref="AdminToken"/>).</param>
    /// <param name="environment">The hosting environment.</param>
    /// <param name="directory">Where the database lives; a fresh directory, deleted at the end, when null.</param>
    /// <param name="time">The server's clock; a fake one when null.</param>
    /// <param name="services">More service registrations.</param>
    /// <param name="kestrel">
    /// Whether to serve on Kestrel, on a free loopback port, instead of the in-memory test server: for what only a real
    /// server does, such as enforcing a request body size limit.
    /// </param>
    public ServerHost(Dictionary<string, string?>? settings = null, string environment = "Testing", string? directory = null, ManualTimeProvider? time = null, Action<IServiceCollection>? services = null, bool kestrel = false)
    {
        Directory = directory ?? System.IO.Directory.CreateTempSubdirectory("sluice-server-").FullName;
        _ownsDirectory = directory is null;
        Time = time ?? new ManualTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Sluice"] = $"Data Source={DatabasePath}",
            ["Admin:Token"] = AdminToken,
        };
        if (kestrel)
        {
            // A free port: the server's own default is 5080.
            all["urls"] = "http://127.0.0.1:0";
        }

        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment(environment);
            foreach (var (key, value) in all)
            {
                b.UseSetting(key, value);
            }

            b.ConfigureTestServices(s =>
            {
                s.AddSingleton<IStartupFilter, LoopbackClientStartupFilter>();
                s.AddSingleton<TimeProvider>(Time);
                s.AddSingleton(new ServerConsole(Output));
                s.AddSingleton<ILoggerProvider>(Logs);
                services?.Invoke(s);
            });
        });
        if (kestrel)
        {
            _factory.UseKestrel(0);
            _factory.StartServer();
        }
    }

    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "server.db");

    public ManualTimeProvider Time { get; }

    /// <summary>Every warning and error the server logged.</summary>
    public LogRecorder Logs { get; } = new();

    /// <summary>What the server printed for the operator.</summary>
    public StringWriter Output { get; } = new();

    public IServiceProvider Services => _factory.Services;

    public HttpClient Anonymous() => _factory.CreateClient();

    public HttpClient WithKey(string key)
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public HttpClient Admin() => WithKey(AdminToken);

    /// <summary>Creates an account through the admin API and returns its id.</summary>
    public async Task<long> CreateAccountAsync(string plan = "free", string name = "Acme")
    {
        using var admin = Admin();
        var response = await admin.PostAsJsonAsync("/admin/accounts", new { name, plan });
        response.EnsureSuccessStatusCode();
        return (await Json(response)).GetProperty("id").GetInt64();
    }

    /// <summary>Creates a key for the account and returns its id and secret.</summary>
    public async Task<(long Id, string Key)> CreateKeyAsync(long accountId)
    {
        using var admin = Admin();
        var response = await admin.PostAsync($"/admin/accounts/{accountId}/keys", null);
        response.EnsureSuccessStatusCode();
        var body = await Json(response);
        return (body.GetProperty("id").GetInt64(), body.GetProperty("key").GetString()!);
    }

    /// <summary>An account on <paramref name="plan"/> with one key, and a client sending that key.</summary>
    public async Task<(long AccountId, long KeyId, HttpClient Client)> NewCustomerAsync(string plan = "free")
    {
        var account = await CreateAccountAsync(plan);
        var (keyId, key) = await CreateKeyAsync(account);
        return (account, keyId, WithKey(key));
    }

    /// <summary>
    /// A client of the DNS API for a new account (its key sent as deSEC's <c>Authorization: Token</c>), with
    /// <paramref name="domains"/> created, one request each.
    /// </summary>
    public async Task<HttpClient> NewDnsClientAsync(params string[] domains)
    {
        var (_, key) = await CreateKeyAsync(await CreateAccountAsync());
        var client = Anonymous();
        client.DefaultRequestHeaders.Add("Authorization", "Token " + key);
        foreach (var domain in domains)
        {
            var created = await client.PostAsJsonAsync("/api/v1/domains/", new { name = domain });
            Xunit.Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        }

        return client;
    }

    /// <summary>Runs SQL on the server's database file from outside the server, e.g. a trigger that makes a write fail.</summary>
    public async Task ExecuteSqlAsync(string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static Task<HttpResponseMessage> Issue(HttpClient client, string email, string name = "Ada", string course = "Rust 101")
        => client.PostAsJsonAsync("/api/certificates", new { recipient_email = email, recipient_name = name, course });

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_ownsDirectory)
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
