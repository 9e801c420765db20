using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;

namespace Sluice.Benchmarks;

/// <summary>
/// Decisions per second over three layers (IP, API key, route) from several threads at once, Sluice against
/// System.Threading.RateLimiting's <c>CreateChained</c> of three, in one process run. "One client" sends every thread's
/// requests to the same three keys (the worst case for locks: one hot client); "1,000 clients" spreads them. Limits no
/// run reaches, so that every decision admits. Each figure is the best of three rounds.
/// </summary>
public static class ContentionBenchmark
{
    private const int Unreachable = 1_000_000_000;

    public static void Run(TimeSpan round)
    {
        Console.WriteLine($"| clients | threads | Sluice, decisions/s | peer, decisions/s | Sluice ÷ peer |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var clients in new[] { 1, 1_000 })
        {
            foreach (var threads in new[] { 1, 2, 4 })
            {
                var sluice = Best(round, threads, SluiceDecider(clients));
                var peer = Best(round, threads, PeerDecider(clients));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {clients:N0} | {threads} | {sluice / 1e6:F2} M | {peer / 1e6:F2} M | {sluice / peer:F2}× |"));
            }
        }
    }

    /// <summary>A factory of per-thread decision loops: each call returns how many decisions one batch made.</summary>
    private static Func<int, Func<int>> SluiceDecider(int clients)
    {
        var store = new MemoryRateLimitStore();
        var ip = RateLimitLayer.FixedWindow("global-ip", new Rate(Unreachable, TimeSpan.FromMinutes(1)));
        var apiKey = RateLimitLayer.FixedWindow("api-key", new Rate(Unreachable, TimeSpan.FromMinutes(1)));
        var route = RateLimitLayer.FixedWindow("auth", new Rate(Unreachable, TimeSpan.FromMinutes(15)));
        var requests = Enumerable.Range(0, clients).Select(i =>
        {
            var address = "10.0." + i.ToString(CultureInfo.InvariantCulture);
            return new[] { ip.For(address), apiKey.For("key-" + i.ToString(CultureInfo.InvariantCulture)), route.For(address) };
        }).ToArray();
        return thread =>
        {
            var statuses = new RateStatus[RateLimitStore.GetStatusCapacity(3)];
            var next = thread * 7;
            return () =>
            {
                for (var n = 0; n < 1_000; n++)
                {
                    store.Acquire(requests[next++ % clients], statuses);
                }

                return 1_000;
            };
        };
    }

    private static Func<int, Func<int>> PeerDecider(int clients)
    {
        var limiter = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.Ip, TimeSpan.FromMinutes(1))),
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.ApiKey, TimeSpan.FromMinutes(1))),
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.Route, TimeSpan.FromMinutes(15))));
        var requests = Enumerable.Range(0, clients).Select(i =>
        {
            var address = "10.0." + i.ToString(CultureInfo.InvariantCulture);
            return new PeerRequest(address, "key-" + i.ToString(CultureInfo.InvariantCulture), address);
        }).ToArray();
        return thread =>
        {
            var next = thread * 7;
            return () =>
            {
                for (var n = 0; n < 1_000; n++)
                {
                    limiter.AttemptAcquire(requests[next++ % clients]).Dispose();
                }

                return 1_000;
            };
        };
    }

    private static RateLimitPartition<string> Fixed(string key, TimeSpan window)
        => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = Unreachable, Window = window, QueueLimit = 0 });

    private static double Best(TimeSpan round, int threads, Func<int, Func<int>> decider)
    {
        var best = 0.0;
        for (var r = 0; r < 3; r++)
        {
            best = Math.Max(best, Round(round, threads, decider));
        }

        return best;
    }

    private static double Round(TimeSpan round, int threads, Func<int, Func<int>> decider)
    {
        var total = 0L;
        var stop = false;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var batch = decider(t);
            var made = 0L;
            while (!Volatile.Read(ref stop))
            {
                made += batch();
            }

            Interlocked.Add(ref total, made);
        })).ToList();
        var clock = Stopwatch.StartNew();
        workers.ForEach(w => w.Start());
        Thread.Sleep(round);
        Volatile.Write(ref stop, true);
        workers.ForEach(w => w.Join());
        return total / clock.Elapsed.TotalSeconds;
    }
}
