using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Sluice.Server.Tests;

public sealed class StartupTests
{
    [Fact]
    public async Task WithoutAnAdminToken_OneIsGenerated_PrintedOnce_AndKeptAcrossRestarts()
    {
        var settings = new Dictionary<string, string?> { ["Admin:Token"] = "" };
        string token;
        var directory = Directory.CreateTempSubdirectory("sluice-server-").FullName;
        await using (var first = new ServerHost(settings, directory: directory))
        {
            _ = first.Services;
            var printed = first.Output.ToString();
            token = printed.Split("SLUICE_ADMIN_TOKEN=")[1].Split('\n')[0].Trim();
        }

        await using var second = new ServerHost(settings, directory: directory);
        _ = second.Services;
        using var admin = second.WithKey(token);
        using var wrong = second.WithKey(token + "x");

        Assert.StartsWith("adm_", token, StringComparison.Ordinal);
        Assert.DoesNotContain("SLUICE_ADMIN_TOKEN", second.Output.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/admin/accounts", new { name = "Acme", plan = "free" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.PostAsJsonAsync("/admin/accounts", new { name = "Acme", plan = "free" })).StatusCode);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task InDevelopment_AFirstStart_CreatesAndPrintsADemoAccountAndKey_Once()
    {
        var directory = Directory.CreateTempSubdirectory("sluice-server-").FullName;
        await using var host = new ServerHost(environment: "Development", directory: directory);
        _ = host.Services;
        var printed = host.Output.ToString();
        var key = printed.Split("SLUICE_API_KEY=")[1].Split('\n')[0].Trim();
        using var client = host.WithKey(key);

        var me = await ServerHost.Json(await client.GetAsync("/api/me"));

        Assert.Equal("Demo", me.GetProperty("name").GetString());
        Assert.Equal("free", me.GetProperty("plan").GetString());
        await using var again = new ServerHost(environment: "Development", directory: host.Directory);
        _ = again.Services;
        Assert.DoesNotContain("SLUICE_API_KEY", again.Output.ToString(), StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task InstancesStartingTogetherOnOneNewDatabase_AllStart_AndShareOneAdminTokenAndOneDemoAccount()
    {
        var directory = Directory.CreateTempSubdirectory("sluice-server-").FullName;
        var settings = new Dictionary<string, string?> { ["Admin:Token"] = "" };
        var hosts = Enumerable.Range(0, 4).Select(_ => new ServerHost(settings, environment: "Development", directory: directory)).ToArray();
        try
        {
            await Task.WhenAll(hosts.Select(host => Task.Run(() => _ = host.Services)));
            var printed = string.Concat(hosts.Select(host => host.Output.ToString()));
            var token = printed.Split("SLUICE_ADMIN_TOKEN=")[1].Split('\n')[0].Trim();
            var key = printed.Split("SLUICE_API_KEY=")[1].Split('\n')[0].Trim();

            Assert.Equal(2, printed.Split("export SLUICE_").Length - 1);
            foreach (var host in hosts)
            {
                using var admin = host.WithKey(token);
                using var customer = host.WithKey(key);
                Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/admin/accounts", new { name = "Acme", plan = "free" })).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await customer.GetAsync("/api/me")).StatusCode);
            }

            await using var database = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={hosts[0].DatabasePath}");
            await database.OpenAsync();
            await using var demos = database.CreateCommand();
            demos.CommandText = "SELECT COUNT(*) FROM accounts WHERE Name = 'Demo'";
            Assert.Equal(1L, await demos.ExecuteScalarAsync());
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task OutsideDevelopment_NoDemoAccountIsCreated()
    {
        await using var host = new ServerHost();
        _ = host.Services;

        Assert.DoesNotContain("SLUICE_API_KEY", host.Output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDatabase_IsTheFileNamedByConnectionStringsSluice()
    {
        await using var host = new ServerHost();
        await host.CreateAccountAsync();

        Assert.True(File.Exists(host.DatabasePath));
    }

    [Fact]
    public async Task SluiceEnabledFalse_TurnsEveryLayerOff()
    {
        await using var host = new ServerHost(new() { ["Sluice:Enabled"] = "false" });
        var (_, _, client) = await host.NewCustomerAsync();

        for (var i = 0; i < 120; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);
        }
    }

    [Fact]
    public async Task TheLayersRates_ComeFromConfiguration()
    {
        await using var host = new ServerHost(new() { ["Sluice:Layers:api-key:Rates:0"] = "5/min", ["Sluice:Layers:auth:Rates:0"] = "1/15min" });
        var (_, _, client) = await host.NewCustomerAsync();
        using var anonymous = host.Anonymous();

        var response = await client.GetAsync("/api/me");
        await anonymous.PostAsJsonAsync("/api/auth/resend-verification-public", new { email = "a@example.com" });
        var second = await anonymous.PostAsJsonAsync("/api/auth/resend-verification-public", new { email = "a@example.com" });

        Assert.Equal("5", response.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
    }

    [Fact]
    public async Task SluiceStoreRedis_IsHonoured_AndFailsClosedWhenConfiguredSo()
    {
        await using var host = new ServerHost(new()
        {
            ["Sluice:Store"] = "Redis",
            ["Sluice:Redis:Configuration"] = $"127.0.0.1:{Sluice.Testing.LoopbackPort.Free()},connectTimeout=200",
            ["Sluice:Redis:FailureMode"] = "FailClosed",
        });
        var (_, _, client) = await host.NewCustomerAsync();

        var response = await client.GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task BadConfiguration_StopsStartup_ListingEveryProblem()
    {
        await using var host = new ServerHost(new()
        {
            ["Quotas:Plans:free"] = "-1",
            ["Admin:Token"] = "short",
            ["Certificates:BulkMaxBytes"] = "0",
            ["Quotas:Store"] = "Postgres",
            ["Quotas:Plans:pro"] = "lots",
            ["Dns:MaxBulk"] = "10",
            ["Dns:WriteWait"] = "30.00:00:00",
            ["Dns:MinimumTtl"] = "0",
            ["Dns:MaximumTtl"] = "-5",
            ["Dns:MaxBulkItems"] = "0",
            ["Dns:MaxBodyBytes"] = "2147483648",
            ["Dns:PageSize"] = "0",
            ["Certificates:JsonMaxBytes"] = "0",
            ["Sluice:Store"] = "Mongo",
            ["Sluice:Layers:api-key:Rates:0"] = "often",
            ["Sluice:Layers:auth:Scop"] = "Endpoint",
            ["Admin:Tokn"] = "a-long-enough-secret",
        });

        var error = Assert.ThrowsAny<Exception>(() => host.Services);
        var message = error.ToString();

        // One message: Sluice's own settings are checked with the server's, not after them.
        var configuration = error;
        while (!configuration.Message.StartsWith("The server's configuration is invalid", StringComparison.Ordinal))
        {
            configuration = configuration.InnerException ?? throw new Xunit.Sdk.XunitException(message);
        }

        Assert.Contains("Sluice:Store 'Mongo' is unknown; use Memory or Redis.", configuration.Message, StringComparison.Ordinal);
        Assert.Contains("Sluice:Layers:api-key:Rates:0 'often' is not a valid rate", configuration.Message, StringComparison.Ordinal);
        Assert.Contains("Sluice:Layers:auth:Scop is not a setting; did you mean Scope?", configuration.Message, StringComparison.Ordinal);
        Assert.Contains("Quotas:Plans:free is -1", configuration.Message, StringComparison.Ordinal);
        Assert.Contains("Admin:Tokn is not a setting; did you mean Token?", configuration.Message, StringComparison.Ordinal);

        Assert.Contains("Quotas:Plans:pro 'lots' is not a whole number.", message, StringComparison.Ordinal);
        Assert.Contains("Dns:MaxBulk is not a setting; did you mean MaxBulkItems?", message, StringComparison.Ordinal);

        Assert.Contains("Quotas:Plans:free is -1", message, StringComparison.Ordinal);
        Assert.Contains("Admin:Token is shorter", message, StringComparison.Ordinal);
        Assert.Contains("Certificates:BulkMaxBytes is 0", message, StringComparison.Ordinal);
        Assert.Contains("Quotas:Store 'Postgres'", message, StringComparison.Ordinal);
        Assert.Contains("Dns:WriteWait is 30.00:00:00; it must be between 0 and 1 hour.", message, StringComparison.Ordinal);
        Assert.Contains("Dns:MinimumTtl is 0; it must be at least 1.", message, StringComparison.Ordinal);
        Assert.Contains("Dns:MaximumTtl is -5; it must not be below Dns:MinimumTtl (0).", message, StringComparison.Ordinal);
        Assert.Contains("Dns:MaxBulkItems is 0; it must be at least 1.", message, StringComparison.Ordinal);
        Assert.Contains("Dns:MaxBodyBytes is 2147483648; it must be between 1 and 1073741824 (1 GiB).", message, StringComparison.Ordinal);
        Assert.Contains("Dns:PageSize is 0; it must be between 1 and 10000.", message, StringComparison.Ordinal);
        Assert.Contains("Certificates:JsonMaxBytes is 0; it must be between 1 and 1073741824 (1 GiB).", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("under-a-file")]
    [InlineData("not-a-database")]
    public async Task ADatabaseTheServerCannotUse_StopsStartup_NamingTheSettingAndTheFile(string problem)
    {
        var directory = Directory.CreateTempSubdirectory("sluice-db-").FullName;
        try
        {
            var blocker = Path.Combine(directory, "file");
            await File.WriteAllTextAsync(blocker, "this is not a SQLite database, and not a directory either");
            var path = problem == "under-a-file" ? Path.Combine(blocker, "server.db") : blocker;
            await using var host = new ServerHost(new() { ["ConnectionStrings:Sluice"] = $"Data Source={path}" });

            var error = Assert.ThrowsAny<Exception>(() => host.Services);

            Assert.IsType<Sluice.Server.Startup.ServerStartupException>(error);
            Assert.StartsWith($"The server cannot use its database '{path}' (ConnectionStrings:Sluice): ", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("Sluice:Store")]
    [InlineData("Quotas:Store")]
    public async Task ABadRedisConfigurationString_StopsStartup_BeforeTheDatabaseIsTouched_WithoutQuotingIt(string store)
    {
        await using var host = new ServerHost(new()
        {
            [store] = "Redis",
            ["Sluice:Redis:Configuration"] = "127.0.0.1:1,password=hunter2,connectTimeout=soon",
        });

        var error = Assert.ThrowsAny<Exception>(() => host.Services);

        Assert.Contains("Sluice:Redis:Configuration is not a StackExchange.Redis configuration string: Keyword 'connectTimeout' requires an integer value", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(host.DatabasePath));
    }

    [Fact]
    public async Task ABadRateInConfiguration_StopsStartup_QuotingIt()
    {
        await using var host = new ServerHost(new() { ["Sluice:Layers:api-key:Rates:0"] = "60/fortnight" });

        var error = Assert.ThrowsAny<Exception>(() => host.Services);

        Assert.Contains("60/fortnight", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Sluice:Layers:api-key:Rates:0=often --Dns:MaxBodyBytes=-1", "The server's configuration is invalid:|  - Sluice:Layers:api-key:Rates:0 'often' is not a valid rate|  - Dns:MaxBodyBytes is -1")]
    [InlineData("--ConnectionStrings:Sluice=Data Source=/proc/sluice/s.db", "The server cannot use its database '/proc/sluice/s.db' (ConnectionStrings:Sluice)")]
    public async Task TheBuiltServer_MisconfiguredOrWithAnUnusableDatabase_PrintsTheMessageAlone_AndExitsWith1(string arguments, string expected)
    {
        var split = arguments.Split(" --").Select(a => a.StartsWith("--", StringComparison.Ordinal) ? a : "--" + a);
        var (exitCode, printed, output) = await RunBuiltServerAsync(["--urls", $"http://127.0.0.1:{Sluice.Testing.LoopbackPort.Free()}", .. split]);

        Assert.Equal(1, exitCode);
        foreach (var line in expected.Split('|'))
        {
            Assert.Contains(line, printed, StringComparison.Ordinal);
        }

        Assert.StartsWith(expected.Split('|')[0], printed, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", printed, StringComparison.Ordinal);
        Assert.Equal("", output);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ALayerTheEndpointsRequire_MissingFromAppsettings_IsListedWithTheOtherProblems_BeforeTheDatabaseIsCreatedOrATokenPrinted(bool alsoABadRate)
    {
        // An operator's appsettings.json without the auth layer (and with a bad rate): one message lists both, and a first
        // start does nothing else, so no admin token is printed that the next start would not show again.
        var databaseCreated = true;
        var (exitCode, printed, output) = await RunBuiltServerAsync(
            ["--urls", $"http://127.0.0.1:{Sluice.Testing.LoopbackPort.Free()}"],
            prepare: directory =>
            {
                var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "appsettings.json")))!;
                var layers = settings["Sluice"]!["Layers"]!.AsObject();
                Assert.True(layers.Remove("auth"));
                if (alsoABadRate)
                {
                    layers["api-key"]!["Rates"] = new JsonArray("often");
                }

                File.WriteAllText(Path.Combine(directory, "appsettings.json"), settings.ToJsonString());
            },
            inspect: directory => databaseCreated = File.Exists(Path.Combine(directory, "s.db")),
            adminToken: false);

        Assert.Equal(1, exitCode);
        Assert.StartsWith("The server's configuration is invalid:", printed, StringComparison.Ordinal);
        Assert.Equal(alsoABadRate, printed.Contains("  - Sluice:Layers:api-key:Rates:0 'often' is not a valid rate", StringComparison.Ordinal));
        Assert.Contains("  - Endpoint 'HTTP: POST /api/auth/resend-verification-public' requires rate-limit layer 'auth', which is not configured under Sluice:Layers.", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", printed, StringComparison.Ordinal);
        Assert.Equal("", output);
        Assert.False(databaseCreated);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CheckConfig_SaysWhetherTheConfigurationIsValid_AndStops_WithoutTouchingTheDatabase(bool valid)
    {
        var databaseCreated = true;
        string[] arguments = valid ? ["--check-config"] : ["--check-config", "--Sluice:Layers:api-key:Rates:0=often"];

        var (exitCode, printed, output) = await RunBuiltServerAsync(
            arguments, inspect: directory => databaseCreated = File.Exists(Path.Combine(directory, "s.db")), adminToken: false);

        Assert.Equal(valid ? 0 : 1, exitCode);
        if (valid)
        {
            Assert.StartsWith("The server's configuration is valid (Production, content root ", output, StringComparison.Ordinal);
            Assert.Equal("", printed);
        }
        else
        {
            Assert.StartsWith("The server's configuration is invalid:", printed, StringComparison.Ordinal);
            Assert.Contains("Sluice:Layers:api-key:Rates:0 'often' is not a valid rate", printed, StringComparison.Ordinal);
            Assert.Equal("", output);
        }

        Assert.DoesNotContain("Now listening", output, StringComparison.Ordinal);
        Assert.False(databaseCreated);
    }

    [Fact]
    public async Task TheBuiltServer_OnAnAddressInUse_SaysSo_AndExitsWith1()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (exitCode, printed, output) = await RunBuiltServerAsync(["--urls", $"http://127.0.0.1:{port}"]);

        Assert.Equal(1, exitCode);
        Assert.StartsWith($"Failed to bind to address http://127.0.0.1:{port}: address already in use. Another process listens there", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", printed + output, StringComparison.Ordinal);

        // The message alone: the host's own log of the failure, with its stack trace, would say it twice.
        Assert.DoesNotContain("   at ", printed + output, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", printed + output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the built server (Production, its own database, an admin token unless <paramref name="adminToken"/> is false)
    /// until it exits, at most a minute, in a new working directory, which <paramref name="prepare"/> may fill first and
    /// <paramref name="inspect"/> look at after.
    /// </summary>
    private static async Task<(int ExitCode, string Error, string Output)> RunBuiltServerAsync(IEnumerable<string> arguments, Action<string>? prepare = null, Action<string>? inspect = null, bool adminToken = true)
    {
        var directory = Directory.CreateTempSubdirectory("sluice-exit-").FullName;
        prepare?.Invoke(directory);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Sluice.Server.dll") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ConnectionStrings__Sluice"] = $"Data Source={Path.Combine(directory, "s.db")}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        if (adminToken)
        {
            start.Environment["Admin__Token"] = "a-long-enough-secret-for-the-admin-api";
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            inspect?.Invoke(directory);
            Directory.Delete(directory, recursive: true);
        }

        return (process.ExitCode, await error, await output);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheBuiltServer_ListensWhereUrlsOrAspNetCoreUrlsSays(bool commandLine)
    {
        var port = Sluice.Testing.LoopbackPort.Free();
        var directory = Directory.CreateTempSubdirectory("sluice-kestrel-").FullName;
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Sluice.Server.dll") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        if (commandLine)
        {
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add(url);
        }
        else
        {
            start.Environment["ASPNETCORE_URLS"] = url;
        }

        start.Environment["ConnectionStrings__Sluice"] = $"Data Source={Path.Combine(directory, "s.db")}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(url) };
            HttpResponseMessage? response = null;
            for (var attempt = 0; attempt < 100 && response is null; attempt++)
            {
                try
                {
                    response = await client.GetAsync("/healthz");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100);
                }
            }

            Assert.NotNull(response);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(File.Exists(Path.Combine(directory, "s.db")));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

}
