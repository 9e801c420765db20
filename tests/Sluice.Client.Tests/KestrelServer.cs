using System.Diagnostics;

namespace Sluice.Client.Tests;

/// <summary>The built reference server as a real process on a free loopback port, for commands that open their own connections.</summary>
public sealed class KestrelServer : IAsyncLifetime
{
    public const string AdminToken = "cli-tests-admin-token";

    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-cli-").FullName;
    private Process? _process;

    public Uri BaseAddress { get; } = new($"http://127.0.0.1:{Sluice.Testing.LoopbackPort.Free()}/");

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Sluice.Server.dll"), "--urls", BaseAddress.AbsoluteUri.TrimEnd('/') },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        start.Environment["ConnectionStrings__Sluice"] = $"Data Source={Path.Combine(_directory, "s.db")}";
        start.Environment["Admin__Token"] = AdminToken;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var client = new HttpClient { BaseAddress = BaseAddress };
        for (var attempt = 0; attempt < 150; attempt++)
        {
            try
            {
                if ((await client.GetAsync("healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("The reference server did not start within 15 seconds.");
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

}
