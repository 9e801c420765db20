using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sluice.AspNetCore.Tests;

/// <summary>
/// A real ASP.NET Core app on the test host, configured from an in-memory configuration that tests can change and
/// reload. The test header <c>X-Test-Remote</c> sets the connection's remote address (default 192.0.2.1).
/// </summary>
internal sealed class TestApp : IAsyncDisposable
{
    public const string RemoteHeader = "X-Test-Remote";

    private TestApp(WebApplication app, ManualTimeProvider clock, IConfigurationRoot configuration, TestLoggerProvider logs)
    {
        App = app;
        Clock = clock;
        Configuration = configuration;
        Logs = logs;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public ManualTimeProvider Clock { get; }

    public IConfigurationRoot Configuration { get; }

    public TestLoggerProvider Logs { get; }

    public static async Task<TestApp> StartAsync(
        IDictionary<string, string?> settings,
        Action<WebApplication>? map = null,
        Action<SluiceOptions>? configure = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? beforeSluice = null,
        bool? routingBeforeSluice = true,
        Func<WebApplication, Task>? beforeStart = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var clock = new ManualTimeProvider();
        var logs = new TestLoggerProvider();
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSluice(configuration.GetSection("Sluice"), configure ?? (_ => { }));
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.Use((context, next) =>
        {
            var remote = context.Request.Headers[RemoteHeader].ToString();
            context.Connection.RemoteIpAddress = IPAddress.Parse(remote.Length > 0 ? remote : "192.0.2.1");
            return next(context);
        });
        // null: no UseRouting call at all, so minimal hosting adds routing at the start of the pipeline.
        if (routingBeforeSluice == true)
        {
            app.UseRouting();
        }

        beforeSluice?.Invoke(app);
        app.UseSluice();
        if (routingBeforeSluice == false)
        {
            app.UseRouting();
        }
        if (map is null)
        {
            app.MapGet("/ping", () => "pong");
        }
        else
        {
            map(app);
        }

        if (beforeStart is not null)
        {
            await beforeStart(app);
        }

        await app.StartAsync();
        return new TestApp(app, clock, configuration, logs);
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? apiKey = null, string? remote = null) => SendAsync(HttpMethod.Get, path, apiKey, remote);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? apiKey = null, string? remote = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + apiKey);
        }

        if (remote is not null)
        {
            request.Headers.TryAddWithoutValidation(RemoteHeader, remote);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>Changes configuration values and raises the reload, as editing appsettings.json does.</summary>
    public void Reconfigure(IDictionary<string, string?> changes)
    {
        foreach (var (key, value) in changes)
        {
            Configuration[key] = value;
        }

        Configuration.Reload();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
