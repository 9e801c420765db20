using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sluice.Redis;
using StackExchange.Redis;

namespace Sluice.Benchmarks;

/// <summary>
/// The Redis store against Redis itself, in one run: a redis-server of its own on a free loopback port, pinned to core 0
/// (the .NET client runs on core 1). Reports Redis's own cost per call of the 3-layer decision script against a 1-key
/// INCR+PEXPIRE script, decisions per second from this process against redis-benchmark sending the same EVALSHA, the
/// client's allocations per decision, and Redis's bytes per key for each algorithm.
/// </summary>
public static class RedisBenchmark
{
    private const string IncrScript = "local v = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], 60000) return v";

    public static async Task RunAsync(int decisions)
    {
        // Redis gets core 0 to itself; this process (Sluice and the bare client) and redis-benchmark share core 1, so
        // that no client steals Redis's core from it and each side is measured against the same Redis.
        if (Environment.ProcessorCount > 1 && (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()))
        {
            Process.GetCurrentProcess().ProcessorAffinity = 2;
        }

        var port = FreePort();
        var directory = Directory.CreateTempSubdirectory("sluice-redis-bench").FullName;
        using var server = Process.Start(new ProcessStartInfo("taskset", $"-c 0 redis-server --port {port} --bind 127.0.0.1 --save \"\" --appendonly no --dir {directory}")
        {
            RedirectStandardOutput = true,
        })!;
        try
        {
            await Task.Delay(500);
            var endpoint = $"127.0.0.1:{port},allowAdmin=true";
            using var admin = await ConnectionMultiplexer.ConnectAsync(endpoint);
            var redis = admin.GetServer("127.0.0.1", port);
            using var store = new RedisRateLimitStore(new RedisRateLimitStoreOptions { Configuration = $"127.0.0.1:{port}", Timeout = TimeSpan.FromSeconds(5), KeyPrefix = "b:" });
            var layers = ThreeLayers(1_000_000_000);

            // Warm up (loads the script), then measure the decision script's server-side cost.
            await Run(store, layers, 2_000, 64);
            await redis.ConfigResetStatisticsAsync();
            var watch = Stopwatch.StartNew();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            await Run(store, layers, decisions, 64);
            var allocated = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)decisions;
            var sluicePerSecond = decisions / watch.Elapsed.TotalSeconds;
            var (evalshaCalls, evalshaUsec) = Stat(redis, "evalsha");

            // The same number of 1-key INCR+PEXPIRE scripts, pipelined the same way.
            var database = admin.GetDatabase();
            var incrSha = await redis.ScriptLoadAsync(IncrScript);
            await redis.ConfigResetStatisticsAsync();
            await Pipelined(decisions, 64, i => database.ScriptEvaluateAsync(incrSha, [(RedisKey)("incr:" + (i % 10_000).ToString(CultureInfo.InvariantCulture))]));
            var (_, incrUsec) = Stat(redis, "evalsha");

            // redis-benchmark sending our exact EVALSHA (same keys, same arguments) with 50 clients, pipelined by 16.
            var sha = Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(Sluice.Redis.Scripts.DecideScript.Text))).ToLowerInvariant();
            var benchmarkStart = new ProcessStartInfo("taskset") { RedirectStandardOutput = true };
            foreach (var argument in new[]
            {
                "-c", "1", "redis-benchmark", "-p", port.ToString(CultureInfo.InvariantCulture), "-c", "50", "-P", "16",
                "-n", decisions.ToString(CultureInfo.InvariantCulture),
                "EVALSHA", sha, "3", "b:global-ip:f:10.0.0.1", "b:api-key:f:key-1", "b:auth:f:10.0.0.1",
                string.Empty, "1", "bench:1", "1000",
                "1", "0", "10", "1", "1000000000", "60000000",
                "1", "0", "10", "1", "1000000000", "60000000",
                "1", "0", "10", "1", "1000000000", "900000000",
            })
            {
                benchmarkStart.ArgumentList.Add(argument);
            }

            // The client library's own floor: the same EVALSHA (same keys and arguments, built once) sent through
            // StackExchange.Redis directly, pipelined the same way; what it allocates per call Sluice cannot avoid.
            var rawKeys = new RedisKey[] { "b:global-ip:f:10.0.0.1", "b:api-key:f:key-1", "b:auth:f:10.0.0.1" };
            var rawValues = new RedisValue[]
            {
                string.Empty, 1, "bench:1", 1000,
                1, 0, 10, 1, 1_000_000_000, 60_000_000,
                1, 0, 10, 1, 1_000_000_000, 60_000_000,
                1, 0, 10, 1, 1_000_000_000, 900_000_000,
            };
            var rawSha = Convert.FromHexString(sha);
            await Pipelined(2_000, 64, _ => database.ScriptEvaluateAsync(rawSha, rawKeys, rawValues));
            var rawBefore = GC.GetTotalAllocatedBytes(precise: true);
            var rawWatch = Stopwatch.StartNew();
            await Pipelined(decisions, 64, _ => database.ScriptEvaluateAsync(rawSha, rawKeys, rawValues));
            var rawPerSecond = decisions / rawWatch.Elapsed.TotalSeconds;
            var rawAllocated = (GC.GetTotalAllocatedBytes(precise: true) - rawBefore) / (double)decisions;

            var benchmark = Process.Start(benchmarkStart)!;
            var benchmarkOutput = await benchmark.StandardOutput.ReadToEndAsync();
            await benchmark.WaitForExitAsync();
            var peerPerSecond = ParseRequestsPerSecond(benchmarkOutput);
            var peerP99 = ParseP99(benchmarkOutput);

            // Latency at half of this process's throughput: requests started on a fixed schedule (open loop), each timed
            // from its scheduled start, so a stall shows up in every request it delays.
            var halfRate = sluicePerSecond / 2;
            var count = (int)Math.Min(decisions / 2, halfRate * 10);
            var latencies = await OpenLoop(store, layers, halfRate, count);
            var p99 = latencies[(int)Math.Ceiling(0.99 * latencies.Length) - 1];

            Console.WriteLine("| measure | Sluice | reference | ratio | target |");
            Console.WriteLine("|---|---|---|---|---|");
            Console.WriteLine($"| EVALSHA per decision (INFO commandstats) | {evalshaCalls / (double)decisions:F3} | 1 | | exactly 1 |");
            Console.WriteLine($"| Redis usec_per_call, 3-layer decision vs 1-key INCR+PEXPIRE script | {evalshaUsec:F2} µs | {incrUsec:F2} µs | {evalshaUsec / incrUsec:F2}× | ≤ 2.5× |");
            Console.WriteLine($"| decisions/s, this process (64 in flight) vs redis-benchmark -c 50 -P 16, same EVALSHA | {sluicePerSecond:F0} | {peerPerSecond:F0} | {sluicePerSecond / peerPerSecond:P0} | ≥ 80 % |");
            Console.WriteLine($"| decisions/s, the same EVALSHA sent through StackExchange.Redis directly (64 in flight) vs redis-benchmark | {rawPerSecond:F0} | {peerPerSecond:F0} | {rawPerSecond / peerPerSecond:P0} | (the client library's ceiling) |");
            Console.WriteLine($"| p99 latency: this process at half its throughput ({halfRate:F0}/s, open loop) vs redis-benchmark's p99 | {p99:F3} ms | {peerP99:F3} ms | {p99 / peerP99:F2}× | ≤ 2× |");
            Console.WriteLine($"| client bytes allocated per decision vs the same EVALSHA sent through StackExchange.Redis directly | {allocated:F0} B | {rawAllocated:F0} B | {allocated / rawAllocated:F2}× | ≤ 408 B |");
            Console.WriteLine();

            // deSEC's record writes: IP and API key as one-rate fixed windows, the domain's four sliding rates and the
            // account's daily sliding rate (10 segments), all in one decision; then the same layers as fixed windows (the
            // default algorithm: a layer of four rates keeps four keys); then the three layers above as one-rate token
            // buckets (GCRA), the "naive 3-key GCRA script" case.
            var deSecUsec = await UsecPerCall(store, redis, DeSecLayers(1_000_000_000), decisions / 4);
            // The reference server's per-domain layer: the same four rates in 1,000 segments each. Every decision here
            // is for one domain at tens of thousands a second, so each rate's window has a count in most segments.
            var deSecThousandUsec = await UsecPerCall(store, redis, DeSecLayers(1_000_000_000, segments: 1000), decisions / 40);
            var deSecFixedUsec = await UsecPerCall(store, redis, DeSecLayers(1_000_000_000, RateLimitAlgorithm.FixedWindow), decisions / 4);
            var bucketUsec = await UsecPerCall(store, redis, TokenBucketLayers(1_000_000_000), decisions / 4);
            Console.WriteLine("| decision | Redis usec_per_call |");
            Console.WriteLine("|---|---|");
            Console.WriteLine($"| 3 one-rate fixed windows (above) | {evalshaUsec:F2} µs |");
            Console.WriteLine($"| deSEC's record writes: 2 fixed windows, a sliding layer of 4 rates, a sliding layer of 1 | {deSecUsec:F2} µs |");
            Console.WriteLine($"| deSEC's record writes, the per-domain layer in 1,000 segments (the reference server's) | {deSecThousandUsec:F2} µs |");
            Console.WriteLine($"| deSEC's record writes with fixed windows instead of sliding ones | {deSecFixedUsec:F2} µs |");
            Console.WriteLine($"| 3 one-rate token buckets (the same layers as GCRA) | {bucketUsec:F2} µs |");
            Console.WriteLine();
            Console.WriteLine("| algorithm | Redis MEMORY USAGE per key (one rate) |");
            Console.WriteLine("|---|---|");
            foreach (var (name, layer, key) in new[]
            {
                ("fixed window", RateLimitLayer.FixedWindow("m-f", Rate.Parse("100/min")), "b:m-f:f:client-1"),
                ("sliding window, 10 segments", RateLimitLayer.SlidingWindow("m-s", Rate.Parse("100/min")), "b:m-s:w10:client-1"),
                ("token bucket", RateLimitLayer.TokenBucket("m-t", Rate.Parse("100/min")), "b:m-t:t:client-1"),
                ("concurrency, one lease held", RateLimitLayer.Concurrency("m-c", 10), "b:m-c:c:client-1"),
            })
            {
                await store.AcquireAsync(layer.For("client-1"));
                var bytes = (long)await database.ExecuteAsync("MEMORY", "USAGE", key);
                Console.WriteLine($"| {name} | {bytes} B |");
            }
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static LayerKey[] ThreeLayers(int limit) =>
    [
        RateLimitLayer.FixedWindow("global-ip", new Rate(limit, TimeSpan.FromMinutes(1))).For("10.0.0.1"),
        RateLimitLayer.FixedWindow("api-key", new Rate(limit, TimeSpan.FromMinutes(1))).For("key-1"),
        RateLimitLayer.FixedWindow("auth", new Rate(limit, TimeSpan.FromMinutes(15))).For("10.0.0.1"),
    ];

    private static LayerKey[] TokenBucketLayers(int limit) =>
    [
        RateLimitLayer.TokenBucket("global-ip-gcra", new Rate(limit, TimeSpan.FromMinutes(1))).For("10.0.0.1"),
        RateLimitLayer.TokenBucket("api-key-gcra", new Rate(limit, TimeSpan.FromMinutes(1))).For("key-1"),
        RateLimitLayer.TokenBucket("auth-gcra", new Rate(limit, TimeSpan.FromMinutes(15))).For("10.0.0.1"),
    ];

    private static LayerKey[] DeSecLayers(int limit, RateLimitAlgorithm algorithm = RateLimitAlgorithm.SlidingWindow, int segments = 10) =>
    [
        RateLimitLayer.FixedWindow("global-ip", new Rate(limit, TimeSpan.FromMinutes(1))).For("10.0.0.1"),
        RateLimitLayer.FixedWindow("api-key", new Rate(limit, TimeSpan.FromMinutes(1))).For("key-1"),
        new RateLimitLayer(
            "dns_api_per_domain_expensive",
            algorithm,
            [
                new Rate(limit, TimeSpan.FromSeconds(1)),
                new Rate(limit, TimeSpan.FromMinutes(1)),
                new Rate(limit, TimeSpan.FromHours(1)),
                new Rate(limit, TimeSpan.FromDays(1)),
            ],
            shadow: false,
            slidingWindowSegments: algorithm == RateLimitAlgorithm.SlidingWindow ? segments : RateLimitLayer.DefaultSlidingWindowSegments).For("1:example.com"),
        new RateLimitLayer("user", algorithm, [new Rate(limit, TimeSpan.FromDays(1))]).For("1"),
    ];

    private static Task Run(RedisRateLimitStore store, LayerKey[] layers, int count, int inFlight)
    {
        var statuses = new RateStatus[RateLimitStore.GetStatusCapacity(layers.Length) * inFlight];
        return Pipelined(count, inFlight, i => store.AcquireAsync(layers, statuses.AsMemory((i % inFlight) * 24, 24)).AsTask());
    }

    private static async Task Pipelined(int count, int inFlight, Func<int, Task> operation)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await operation(i);
            }
        }));
    }

    /// <summary>Redis's <c>usec_per_call</c> for the decision script over <paramref name="count"/> decisions of <paramref name="layers"/>, after 2,000 unmeasured ones.</summary>
    private static async Task<double> UsecPerCall(RedisRateLimitStore store, IServer redis, LayerKey[] layers, int count)
    {
        await Run(store, layers, 2_000, 64);
        await redis.ConfigResetStatisticsAsync();
        await Run(store, layers, count, 64);
        return Stat(redis, "evalsha").UsecPerCall;
    }

    private static (long Calls, double UsecPerCall) Stat(IServer server, string command)
    {
        var line = server.Info("commandstats").SelectMany(g => g).First(p => p.Key == "cmdstat_" + command).Value;
        var fields = line.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        return (long.Parse(fields["calls"], CultureInfo.InvariantCulture), double.Parse(fields["usec_per_call"], CultureInfo.InvariantCulture));
    }

    private static async Task<double[]> OpenLoop(RedisRateLimitStore store, LayerKey[] layers, double perSecond, int count)
    {
        var latencies = new double[count];
        var running = new Task[count];
        var clock = Stopwatch.StartNew();
        var ticksPerRequest = Stopwatch.Frequency / perSecond;
        for (var i = 0; i < count; i++)
        {
            var due = (long)(i * ticksPerRequest);
            while (clock.ElapsedTicks < due)
            {
                if (due - clock.ElapsedTicks > Stopwatch.Frequency / 500)
                {
                    await Task.Delay(1);
                }
                else
                {
                    Thread.SpinWait(20);
                }
            }

            var index = i;
            running[i] = Time(index, due);
        }

        await Task.WhenAll(running);
        Array.Sort(latencies);
        return latencies;

        async Task Time(int index, long due)
        {
            var statuses = new RateStatus[RateLimitStore.GetStatusCapacity(layers.Length)];
            await store.AcquireAsync(layers, statuses);
            latencies[index] = (clock.ElapsedTicks - due) * 1000.0 / Stopwatch.Frequency;
        }
    }

    private static double ParseRequestsPerSecond(string output)
    {
        // "  throughput summary: 123456.78 requests per second"
        var at = output.LastIndexOf(" requests per second", StringComparison.Ordinal);
        var start = output.LastIndexOf(':', at) + 1;
        return double.Parse(output[start..at].Trim(), CultureInfo.InvariantCulture);
    }

    private static double ParseP99(string output)
    {
        // "  latency summary (msec):" then a header row "avg min p50 p95 p99 max" and a row of values.
        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var header = Array.FindLastIndex(lines, l => l.StartsWith("avg", StringComparison.Ordinal));
        var names = lines[header].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = lines[header + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return double.Parse(values[Array.IndexOf(names, "p99")], CultureInfo.InvariantCulture);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
