using Xunit;

namespace Sluice.Testing;

/// <summary>
/// Two stores side by side on one fake clock: seeded random traffic (layers of every algorithm, several rates, shadow
/// layers, costs from 0 past the limit, keys from a small pool, time moving in steps from nothing to past a window,
/// concurrency leases held and returned, overrides set and removed, layers rebuilt with other periods as a
/// configuration reload does) must get the very same decision from each, status by status. A difference fails with the seed and step, so it is reproducible.
/// </summary>
public static class StoreDifferential
{
    /// <summary>Every algorithm, two multi-rate layers and a shadow layer: most requests take the general path.</summary>
    public static readonly RateLimitLayer[] Mixed =
    [
        RateLimitLayer.FixedWindow("ip", Rate.Parse("5/s"), Rate.Parse("12/min")),
        new RateLimitLayer("dns", RateLimitAlgorithm.SlidingWindow, [Rate.Parse("2/s"), Rate.Parse("7/min")], shadow: false, slidingWindowSegments: 6),
        RateLimitLayer.TokenBucket("burst", Rate.Parse("4/2s")),
        new RateLimitLayer("watch", RateLimitAlgorithm.FixedWindow, [Rate.Parse("3/10s")], shadow: true),

        // The default 10 segments: the Redis script names their fields from literals, other counts by concatenation.
        RateLimitLayer.SlidingWindow("reads", Rate.Parse("4/s"), Rate.Parse("9/min")),

        // A day: within a run no lease outlives it, since the in-memory store keeps leases until released (documented).
        RateLimitLayer.Concurrency("writes", 2, TimeSpan.FromDays(1)),
        RateLimitLayer.FixedWindow("auth", Rate.Parse("3/15min")),
    ];

    /// <summary>One-rate, one-slot layers only (fixed windows, a token bucket, concurrency): what the fast paths take.</summary>
    public static readonly RateLimitLayer[] OneRate =
    [
        RateLimitLayer.FixedWindow("ip", Rate.Parse("6/s")),
        RateLimitLayer.FixedWindow("api-key", Rate.Parse("9/min")),
        RateLimitLayer.TokenBucket("burst", Rate.Parse("4/2s")),
        new RateLimitLayer("watch", RateLimitAlgorithm.FixedWindow, [Rate.Parse("3/10s")], shadow: true),
        RateLimitLayer.Concurrency("writes", 2, TimeSpan.FromDays(1)),
        RateLimitLayer.FixedWindow("auth", Rate.Parse("3/15min")),
    ];

    private static readonly string[] s_keys = ["a", "b", "c"];

    private static readonly TimeSpan[] s_periods = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(15)];

    /// <summary>
    /// Runs <paramref name="steps"/> requests over <paramref name="layers"/> (default <see cref="Mixed"/>; overrides, with
    /// periods unlike the layers' own, go to any layer but a concurrency one) against both stores, which must read
    /// <paramref name="clock"/>.
    /// </summary>
    public static async Task RunAsync(RateLimitStore expected, RateLimitStore actual, ManualTimeProvider clock, int seed, int steps, RateLimitLayer[]? layers = null)
    {
        // A copy: a reload replaces the layer objects of this run only.
        var pool = (layers ?? Mixed).ToArray();
        var random = new Random(seed);
        var held = new List<(RateLimitResult Expected, RateLimitResult Actual)>();
        for (var step = 0; step < steps; step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(random.Next(4) switch { 0 => 0, 1 => random.Next(1, 300), 2 => random.Next(300, 2_500), _ => random.Next(2_500, 20_000) }));
            if (random.Next(8) == 0)
            {
                var key = s_keys[random.Next(s_keys.Length)];
                if (random.Next(2) == 0)
                {
                    Rate[] rates = [new Rate(random.Next(1, 9), TimeSpan.FromSeconds(random.Next(1, 30)))];
                    // Any layer but concurrency, whose rate is a permit count, not a window.
                    var target = pool[random.Next(pool.Length)];
                    target = target.Algorithm == RateLimitAlgorithm.Concurrency ? pool[0] : target;
                    await expected.SetOverrideAsync(target, key, rates);
                    await actual.SetOverrideAsync(target, key, rates);
                }
                else
                {
                    Assert.Equal(await expected.RemoveOverrideAsync(pool[0], key), await actual.RemoveOverrideAsync(pool[0], key));
                }
            }

            if (random.Next(40) == 0)
            {
                // A configuration reload: one fixed or sliding layer rebuilt with other periods, limits and sometimes
                // another number of rates.
                var index = random.Next(pool.Length);
                var old = pool[index];
                if (old.Algorithm is RateLimitAlgorithm.FixedWindow or RateLimitAlgorithm.SlidingWindow)
                {
                    var periods = s_periods.OrderBy(_ => random.Next()).Take(random.Next(4) == 0 ? random.Next(1, 4) : old.Rates.Count).ToArray();
                    var rates = periods.Select(p => new Rate(random.Next(2, 12), p)).ToArray();
                    pool[index] = new RateLimitLayer(old.Name, old.Algorithm, rates, old.IsShadow, old.SlidingWindowSegments);
                }
            }

            if (held.Count > 0 && random.Next(3) == 0)
            {
                var index = random.Next(held.Count);
                await held[index].Expected.DisposeAsync();
                await held[index].Actual.DisposeAsync();
                held.RemoveAt(index);
            }

            var request = pool.Where(_ => random.Next(3) == 0).Select(l => l.For(s_keys[random.Next(s_keys.Length)])).ToArray();
            var cost = random.Next(10) switch { 0 => 0, 1 => 2, 2 => 9, _ => 1 };
            var one = await expected.AcquireAsync(cost, request);
            var other = await actual.AcquireAsync(cost, request);

            var context = $"seed {seed}, step {step}, cost {cost}, layers [{string.Join(", ", request.Select(l => $"{l.Layer.Name}:{l.Key}"))}]";
            Assert.True(one.IsAllowed == other.IsAllowed, $"{context}: {Verdict(one)} against {Verdict(other)}");
            Assert.Equal(one.Statuses.Count, other.Statuses.Count);
            for (var i = 0; i < one.Statuses.Count; i++)
            {
                var (e, a) = (one.Statuses[i], other.Statuses[i]);
                Assert.True(
                    (e.LayerIndex, e.RateIndex, e.Limit, e.Remaining, e.ResetAt, e.Outcome, e.IsOverride) == (a.LayerIndex, a.RateIndex, a.Limit, a.Remaining, a.ResetAt, a.Outcome, a.IsOverride)
                    && Math.Abs((e.RetryAfter - a.RetryAfter).TotalMilliseconds) <= 1,
                    $"{context}, status {i}: {Describe(e)} against {Describe(a)}");
            }

            if (one.IsAllowed && request.Any(l => l.Layer.Algorithm == RateLimitAlgorithm.Concurrency))
            {
                held.Add((one, other));
            }
        }
    }

    private static string Verdict(RateLimitResult result) => result.IsAllowed ? "allowed" : "denied";

    private static string Describe(RateStatus s)
        => $"layer {s.LayerIndex} rate {s.RateIndex} limit {s.Limit} remaining {s.Remaining} reset {s.ResetAt:O} retry {s.RetryAfter} {s.Outcome}{(s.IsOverride ? " override" : string.Empty)}";
}
