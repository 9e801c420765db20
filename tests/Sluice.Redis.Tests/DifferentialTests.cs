namespace Sluice.Redis.Tests;

/// <summary>
/// The two stores side by side on one fake clock: random traffic (layers of every algorithm, several rates, shadow
/// layers, costs from 0 past the limit, keys from a small pool, time moving in steps from nothing to past a window,
/// concurrency leases held and returned, overrides set and removed) must get the very same decision from each,
/// status by status. The seed is fixed, so a difference is reproducible.
/// </summary>
public sealed class DifferentialTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly RateLimitLayer[] s_layers =
    [
        RateLimitLayer.FixedWindow("ip", Rate.Parse("5/s"), Rate.Parse("12/min")),
        new RateLimitLayer("dns", RateLimitAlgorithm.SlidingWindow, [Rate.Parse("2/s"), Rate.Parse("7/min")], shadow: false, slidingWindowSegments: 6),
        RateLimitLayer.TokenBucket("burst", Rate.Parse("4/2s")),
        new RateLimitLayer("watch", RateLimitAlgorithm.FixedWindow, [Rate.Parse("3/10s")], shadow: true),
        // A day: within a test no lease outlives it, since the in-memory store keeps leases until released (documented).
        RateLimitLayer.Concurrency("writes", 2, TimeSpan.FromDays(1)),
        RateLimitLayer.FixedWindow("auth", Rate.Parse("3/15min")),
    ];

    private static readonly string[] s_keys = ["a", "b", "c"];

    public static TheoryData<int> Seeds() => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task RandomTraffic_GetsTheSameDecisionFromMemoryAndRedis(int seed)
    {
        var clock = new ManualTimeProvider();
        var memory = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock });
        using var store = new RedisRateLimitStore(new RedisRateLimitStoreOptions
        {
            Configuration = redis.Configuration,
            KeyPrefix = RedisContractStores.UniqueName("diff") + ":",
            UseServerTime = false,
            TimeProvider = clock,
            Timeout = TimeSpan.FromSeconds(5),
            KeyTtlPadding = TimeSpan.FromMinutes(30),
        });
        var random = new Random(seed);
        var held = new List<(RateLimitResult Memory, RateLimitResult Redis)>();
        for (var step = 0; step < 1000; step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(random.Next(4) switch { 0 => 0, 1 => random.Next(1, 300), 2 => random.Next(300, 2_500), _ => random.Next(2_500, 20_000) }));
            if (random.Next(20) == 0)
            {
                var key = s_keys[random.Next(s_keys.Length)];
                if (random.Next(2) == 0)
                {
                    Rate[] rates = [new Rate(random.Next(1, 9), TimeSpan.FromSeconds(random.Next(1, 30)))];
                    await memory.SetOverrideAsync(s_layers[0], key, rates);
                    await store.SetOverrideAsync(s_layers[0], key, rates);
                }
                else
                {
                    Assert.Equal(await memory.RemoveOverrideAsync(s_layers[0], key), await store.RemoveOverrideAsync(s_layers[0], key));
                }
            }

            if (held.Count > 0 && random.Next(3) == 0)
            {
                var index = random.Next(held.Count);
                await held[index].Memory.DisposeAsync();
                await held[index].Redis.DisposeAsync();
                held.RemoveAt(index);
            }

            var layers = s_layers.Where(_ => random.Next(3) == 0).Select(l => l.For(s_keys[random.Next(s_keys.Length)])).ToArray();
            var cost = random.Next(10) switch { 0 => 0, 1 => 2, 2 => 9, _ => 1 };
            var fromMemory = await memory.AcquireAsync(cost, layers);
            var fromRedis = await store.AcquireAsync(cost, layers);

            var context = $"seed {seed}, step {step}, cost {cost}, layers [{string.Join(", ", layers.Select(l => $"{l.Layer.Name}:{l.Key}"))}]";
            Assert.True(fromMemory.IsAllowed == fromRedis.IsAllowed, $"{context}: memory {(fromMemory.IsAllowed ? "allowed" : "denied")}, Redis {(fromRedis.IsAllowed ? "allowed" : "denied")}");
            Assert.Equal(fromMemory.Statuses.Count, fromRedis.Statuses.Count);
            for (var i = 0; i < fromMemory.Statuses.Count; i++)
            {
                var (m, r) = (fromMemory.Statuses[i], fromRedis.Statuses[i]);
                Assert.True(
                    (m.LayerIndex, m.RateIndex, m.Limit, m.Remaining, m.ResetAt, m.Outcome, m.IsOverride) == (r.LayerIndex, r.RateIndex, r.Limit, r.Remaining, r.ResetAt, r.Outcome, r.IsOverride)
                    && Math.Abs((m.RetryAfter - r.RetryAfter).TotalMilliseconds) <= 1,
                    $"{context}, status {i}: memory {Describe(m)}; Redis {Describe(r)}");
            }

            if (fromMemory.IsAllowed && layers.Any(l => l.Layer.Algorithm == RateLimitAlgorithm.Concurrency))
            {
                held.Add((fromMemory, fromRedis));
            }
        }

        Assert.Equal(0, store.FallbackCount);
    }

    private static string Describe(RateStatus s)
        => $"layer {s.LayerIndex} rate {s.RateIndex} limit {s.Limit} remaining {s.Remaining} reset {s.ResetAt:O} retry {s.RetryAfter} {s.Outcome}{(s.IsOverride ? " override" : string.Empty)}";
}
