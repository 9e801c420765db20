using System.Globalization;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;

namespace Sluice.Benchmarks;

/// <summary>
/// One decision over 10,000 distinct keys, Sluice against System.Threading.RateLimiting in the same run.
/// "Allowed" uses the same layer shapes with limits no run can reach, so that both take their admitting path;
/// "Rejected" uses the real limits (100/min, 60/min, 3/15min) with every key exhausted first.
/// </summary>
[MemoryDiagnoser]
public class DecisionBenchmarks
{
    private readonly RateStatus[] _statuses = new RateStatus[RateLimitStore.GetStatusCapacity(3)];
    private LayerKey[][] _three = [];
    private LayerKey[][] _one = [];
    private PeerRequest[] _requests = [];
    private MemoryRateLimitStore _store = null!;
    private PartitionedRateLimiter<PeerRequest> _peerChained = null!;
    private PartitionedRateLimiter<PeerRequest> _peerOne = null!;
    private int _keys;
    private int _next;

    /// <summary>Distinct clients, visited round robin: 10,000 here, as the issue states the case.</summary>
    [Params(10_000)]
    public virtual int Keys { get; set; } = 10_000;

    /// <summary>Whether the limits admit every request or none.</summary>
    [Params("Allowed", "Rejected")]
    public string Outcome { get; set; } = "Allowed";

    [GlobalSetup]
    public void Setup()
    {
        var allowed = Outcome == "Allowed";
        var (ipLimit, keyLimit, routeLimit) = allowed ? (1_000_000_000, 1_000_000_000, 1_000_000_000) : (100, 60, 3);
        var ip = RateLimitLayer.FixedWindow("global-ip", new Rate(ipLimit, TimeSpan.FromMinutes(1)));
        var apiKey = RateLimitLayer.FixedWindow("api-key", new Rate(keyLimit, TimeSpan.FromMinutes(1)));
        var route = RateLimitLayer.FixedWindow("auth", new Rate(routeLimit, TimeSpan.FromMinutes(15)));
        _store = new MemoryRateLimitStore();
        _keys = Keys;
        _three = new LayerKey[Keys][];
        _one = new LayerKey[Keys][];
        _requests = new PeerRequest[Keys];
        for (var i = 0; i < Keys; i++)
        {
            // One string per client address, as a server has (one per connection, used by every layer keyed on the
            // IP): both libraries get the same instances, so neither compares equal strings character by character.
            var n = i.ToString(CultureInfo.InvariantCulture);
            var address = "10.0." + n;
            var key = "key-" + n;
            _three[i] = [ip.For(address), apiKey.For(key), route.For(address)];
            _one[i] = [ip.For(address)];
            _requests[i] = new PeerRequest(address, key, address);
        }

        _peerOne = PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.Ip, ipLimit, TimeSpan.FromMinutes(1)));
        _peerChained = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.Ip, ipLimit, TimeSpan.FromMinutes(1))),
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.ApiKey, keyLimit, TimeSpan.FromMinutes(1))),
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.Route, routeLimit, TimeSpan.FromMinutes(15))));

        if (!allowed)
        {
            // Exhaust every key in both libraries so that each measured call is a rejection.
            for (var round = 0; round < 101; round++)
            {
                for (var i = 0; i < Keys; i++)
                {
                    _store.Acquire(_three[i], _statuses);
                    _store.Acquire(_one[i], _statuses);
                    _peerChained.AttemptAcquire(_requests[i]).Dispose();
                    _peerOne.AttemptAcquire(_requests[i]).Dispose();
                }
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _peerChained.Dispose();
        _peerOne.Dispose();
    }

    [Benchmark(Description = "Sluice 3 layers")]
    public bool SluiceThreeLayers() => _store.Acquire(_three[Next()], _statuses).IsAllowed;

    [Benchmark(Description = "Peer CreateChained of 3", Baseline = true)]
    public bool PeerThreeLayers()
    {
        using var lease = _peerChained.AttemptAcquire(_requests[Next()]);
        return lease.IsAcquired;
    }

    [Benchmark(Description = "Sluice 1 layer")]
    public bool SluiceOneLayer() => _store.Acquire(_one[Next()], _statuses).IsAllowed;

    [Benchmark(Description = "Peer partitioned 1")]
    public bool PeerOneLayer()
    {
        using var lease = _peerOne.AttemptAcquire(_requests[Next()]);
        return lease.IsAcquired;
    }

    private static RateLimitPartition<string> Fixed(string key, int limit, TimeSpan window)
        => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = window, QueueLimit = 0 });

    private int Next()
    {
        var next = _next + 1;
        _next = next == _keys ? 0 : next;
        return _next;
    }
}
