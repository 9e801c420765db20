using BenchmarkDotNet.Running;
using Sluice.Benchmarks;

// `footprint [seconds]` measures bytes per key, first-seen cost and idle CPU; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "footprint")
{
    var seconds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;
    KeyFootprint.Run(TimeSpan.FromSeconds(seconds));
    return;
}

// `contention [seconds]` measures decisions per second from 1, 2 and 4 threads, on one hot client and on 1,000 clients.
if (args.Length > 0 && args[0] == "contention")
{
    ContentionBenchmark.Run(TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2));
    return;
}

// `redis [decisions]` measures the Redis store against Redis itself (needs redis-server and redis-benchmark).
if (args.Length > 0 && args[0] == "redis")
{
    await RedisBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200_000);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(DecisionBenchmarks).Assembly).Run(args);
