using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Client.Tests;

/// <summary>The reference server (deSEC-style DNS API and all) on the test host, with a real SQLite file.</summary>
public sealed class ReferenceServer : IAsyncDisposable
{
    private const string AdminToken = "client-tests-admin-token";
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-client-").FullName;
    private readonly WebApplicationFactory<Program> _factory;

    /// <summary>The server on its own SQLite file, with <paramref name="settings"/> over its configuration, on <paramref name="time"/> (the real clock by default).</summary>
    public ReferenceServer(Dictionary<string, string>? settings = null, TimeProvider? time = null)
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Testing");
            b.UseSetting("ConnectionStrings:Sluice", $"Data Source={Path.Combine(_directory, "server.db")}");
            b.UseSetting("Admin:Token", AdminToken);
            foreach (var (key, value) in settings ?? [])
            {
                b.UseSetting(key, value);
            }

            if (time is not null)
            {
                b.ConfigureTestServices(s => s.AddSingleton(time));
            }
        });
    }

    public Uri BaseAddress => _factory.Server.BaseAddress;

    /// <summary>A transport into the test host, for a handler chain of the test's own.</summary>
    public HttpMessageHandler Transport() => _factory.Server.CreateHandler();

    /// <summary>A transport into the test host whose requests arrive from <paramref name="remote"/> (the test host leaves the address empty otherwise).</summary>
    public HttpMessageHandler Transport(System.Net.IPAddress remote) => _factory.Server.CreateHandler(context => context.Connection.RemoteIpAddress = remote);

    /// <summary>A new account with a key; returns the key.</summary>
    public async Task<string> NewKeyAsync()
    {
        using var admin = _factory.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        var account = (await admin.PostAsJsonAsync("/admin/accounts", new { name = "client", plan = "free" })).Content.ReadFromJsonAsync<JsonElement>().Result.GetProperty("id").GetInt64();
        var key = await (await admin.PostAsync($"/admin/accounts/{account}/keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return key.GetProperty("key").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
