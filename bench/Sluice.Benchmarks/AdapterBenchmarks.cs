using System.Globalization;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Sluice.RateLimiting;

namespace Sluice.Benchmarks;

/// <summary>
/// The same decisions as <see cref="DecisionBenchmarks"/>, asked through the <c>System.Threading.RateLimiting</c>
/// abstraction: <see cref="SluicePartitionedRateLimiter{TResource}"/> over the in-memory store against the peer's
/// partitioned limiters, both called as <c>AttemptAcquire</c> and disposed, over 10,000 clients.
/// </summary>
[MemoryDiagnoser]
public class AdapterBenchmarks
{
    private PeerRequest[] _requests = [];
    private PartitionedRateLimiter<PeerRequest> _sluiceThree = null!;
    private PartitionedRateLimiter<PeerRequest> _sluiceOne = null!;
    private PartitionedRateLimiter<PeerRequest> _peerThree = null!;
    private PartitionedRateLimiter<PeerRequest> _peerOne = null!;
    private int _next;

    /// <summary>Whether the limits admit every request or none.</summary>
    [Params("Allowed", "Rejected")]
    public string Outcome { get; set; } = "Allowed";

    [GlobalSetup]
    public void Setup()
    {
        const int keys = 10_000;
        var allowed = Outcome == "Allowed";
        var (ipLimit, keyLimit, routeLimit) = allowed ? (1_000_000_000, 1_000_000_000, 1_000_000_000) : (100, 60, 3);
        var ip = RateLimitLayer.FixedWindow("global-ip", new Rate(ipLimit, TimeSpan.FromMinutes(1)));
        var apiKey = RateLimitLayer.FixedWindow("api-key", new Rate(keyLimit, TimeSpan.FromMinutes(1)));
        var route = RateLimitLayer.FixedWindow("auth", new Rate(routeLimit, TimeSpan.FromMinutes(15)));
        var store = new MemoryRateLimitStore();
        _sluiceThree = new SluicePartitionedRateLimiter<PeerRequest>(store, [new(ip, r => r.Ip), new(apiKey, r => r.ApiKey), new(route, r => r.Route)]);
        _sluiceOne = new SluicePartitionedRateLimiter<PeerRequest>(store, [new(ip, r => r.Ip)]);
        _peerOne = PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.Ip, ipLimit, TimeSpan.FromMinutes(1)));
        _peerThree = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.Ip, ipLimit, TimeSpan.FromMinutes(1))),
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.ApiKey, keyLimit, TimeSpan.FromMinutes(1))),
            PartitionedRateLimiter.Create<PeerRequest, string>(r => Fixed(r.Route, routeLimit, TimeSpan.FromMinutes(15))));
        _requests = new PeerRequest[keys];
        for (var i = 0; i < keys; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            _requests[i] = new PeerRequest("10.0." + n, "key-" + n, "10.0." + n);
        }

        if (!allowed)
        {
            for (var round = 0; round < 101; round++)
            {
                foreach (var request in _requests)
                {
                    _sluiceThree.AttemptAcquire(request).Dispose();
                    _sluiceOne.AttemptAcquire(request).Dispose();
                    _peerThree.AttemptAcquire(request).Dispose();
                    _peerOne.AttemptAcquire(request).Dispose();
                }
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sluiceThree.Dispose();
        _sluiceOne.Dispose();
        _peerThree.Dispose();
        _peerOne.Dispose();
    }

    [Benchmark(Description = "Sluice adapter, 3 layers")]
    public bool SluiceThreeLayers() => Acquire(_sluiceThree);

    [Benchmark(Description = "Peer CreateChained of 3", Baseline = true)]
    public bool PeerThreeLayers() => Acquire(_peerThree);

    [Benchmark(Description = "Sluice adapter, 1 layer")]
    public bool SluiceOneLayer() => Acquire(_sluiceOne);

    [Benchmark(Description = "Peer partitioned 1")]
    public bool PeerOneLayer() => Acquire(_peerOne);

    private static RateLimitPartition<string> Fixed(string key, int limit, TimeSpan window)
        => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = window, QueueLimit = 0 });

    private bool Acquire(PartitionedRateLimiter<PeerRequest> limiter)
    {
        var next = _next + 1;
        _next = next == _requests.Length ? 0 : next;
        using var lease = limiter.AttemptAcquire(_requests[_next]);
        return lease.IsAcquired;
    }
}
