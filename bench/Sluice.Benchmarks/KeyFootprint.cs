using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;

namespace Sluice.Benchmarks;

/// <summary>
/// Bytes per key, cost of a first-seen key and idle CPU with 1,000,000 keys held, Sluice against
/// System.Threading.RateLimiting, in one process run. Each figure is the median of three rounds.
/// </summary>
public static class KeyFootprint
{
    private const int Keys = 1_000_000;

    public static void Run(TimeSpan idle)
    {
        var keys = new string[Keys];
        for (var i = 0; i < Keys; i++)
        {
            keys[i] = "203." + (i >> 16).ToString(CultureInfo.InvariantCulture) + "." + (i & 0xFFFF).ToString(CultureInfo.InvariantCulture);
        }

        Console.WriteLine($"| library | bytes per key (excl. key string) | first-seen key | idle CPU, {Keys:N0} keys held, {idle.TotalSeconds:F0} s |");
        Console.WriteLine("|---|---|---|---|");
        Measure("Sluice MemoryRateLimitStore, 1 fixed-window layer", keys, idle, SluiceHolder);
        Measure("System.Threading.RateLimiting partitioned fixed window", keys, idle, PeerHolder);
    }

    private static void Measure(string name, string[] keys, TimeSpan idle, Func<string[], (object Holder, Action Dispose)> fill)
    {
        var rounds = Enumerable.Range(0, 3).Select(_ => Round(keys, idle, fill)).ToList();
        Console.WriteLine($"| {name} | {Median(rounds.Select(r => r.Bytes))} B | {Median(rounds.Select(r => r.FirstSeenNs)):F0} ns | {Median(rounds.Select(r => r.CpuPercent)):F2} % of a core |");
    }

    // A frame of its own per round, so that nothing of one round is alive, or collected, during the next one's measurement.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (double Bytes, double FirstSeenNs, double CpuPercent) Round(string[] keys, TimeSpan idle, Func<string[], (object Holder, Action Dispose)> fill)
    {
        var before = Settle();
        var gen2 = GC.CollectionCount(2);
        var watch = Stopwatch.StartNew();
        var (holder, dispose) = fill(keys);
        watch.Stop();
        gen2 = GC.CollectionCount(2) - gen2;
        var after = Settle();

        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        Thread.Sleep(idle);
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / idle.TotalMilliseconds * 100;
        GC.KeepAlive(holder);
        dispose();
        Console.Error.WriteLine($"  round: {after - before} bytes, {watch.Elapsed.TotalMilliseconds:F0} ms to fill, {gen2} gen2 GCs while filling");
        return ((double)(after - before) / keys.Length, watch.Elapsed.TotalNanoseconds / keys.Length, cpu);
    }

    private static (object, Action) SluiceHolder(string[] keys)
    {
        var store = new MemoryRateLimitStore();
        var layer = RateLimitLayer.FixedWindow("global-ip", Rate.Parse("100/min"));
        var statuses = new RateStatus[1];
        var layers = new LayerKey[1];
        foreach (var key in keys)
        {
            layers[0] = new LayerKey(layer, key);
            store.Acquire(layers, statuses);
        }

        return (store, () => { });
    }

    private static (object, Action) PeerHolder(string[] keys)
    {
        var limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(
            key, _ => new FixedWindowRateLimiterOptions { PermitLimit = 100, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        foreach (var key in keys)
        {
            limiter.AttemptAcquire(key).Dispose();
        }

        return (limiter, limiter.Dispose);
    }

    private static long Settle()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return Math.Round(sorted[sorted.Count / 2], 1);
    }
}
