using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Sluice.Redis.Tests;

/// <summary>
/// A real redis-server (the Debian package) on a free loopback port, with no persistence, stopped when disposed.
/// A missing redis-server is a failure, never a skip: ./test.sh installs it.
/// </summary>
public class RedisServer : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sluice-redis-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    public int Port { get; } = Sluice.Testing.LoopbackPort.Free();

    public string Configuration => $"127.0.0.1:{Port},allowAdmin=true";

    public ConnectionMultiplexer Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        await StartAsync();
        // The tests' own connection: generous timeouts, since test classes load the machine in parallel.
        Admin = await ConnectionMultiplexer.ConnectAsync(Configuration + ",syncTimeout=15000,connectTimeout=15000");
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

    public async Task StartAsync()
    {
        var executable = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed: run ./test.sh, which installs it from Debian packages (apt-get install redis-server).");
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no", "--loglevel", "warning" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in ExtraArguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        // A real process starting: real time, bounded.
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                await OnListeningAsync(client.GetStream());
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on port {Port} within 10 seconds.");
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Arguments added to redis-server's command line.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>Runs once the server accepts connections (and again after a restart), on a raw connection to it.</summary>
    protected virtual Task OnListeningAsync(NetworkStream connection) => Task.CompletedTask;

    /// <summary>The number of EVALSHA commands the server has run; -1 while the admin connection cannot ask.</summary>
    public async Task<long> EvalshaCallsAsync()
    {
        try
        {
            return await CommandCallsAsync("evalsha");
        }
        catch (RedisConnectionException)
        {
            return -1;
        }
    }

    /// <summary>How many times the server has run <paramref name="command"/> (lower case, as <c>INFO commandstats</c> names it).</summary>
    public async Task<long> CommandCallsAsync(string command)
    {
        var stats = (await Admin.GetServer("127.0.0.1", Port).InfoAsync("commandstats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        if (!stats.TryGetValue("cmdstat_" + command, out var line))
        {
            return 0;
        }

        var calls = line.Split(',').First(p => p.StartsWith("calls=", StringComparison.Ordinal));
        return long.Parse(calls["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

}
