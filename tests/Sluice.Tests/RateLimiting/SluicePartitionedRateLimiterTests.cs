using System.Threading.RateLimiting;
using Sluice.RateLimiting;

namespace Sluice.Tests.RateLimiting;

public sealed class SluicePartitionedRateLimiterTests
{
    private readonly MemoryRateLimitStore _store = new(new MemoryRateLimitStoreOptions { TimeProvider = new ManualTimeProvider() });

    [Fact]
    public void EachResource_IsDecidedAgainstTheLayersThatFindAKeyForIt()
    {
        using var limiter = Limiter();

        var anonymous = Enumerable.Range(0, 4).Count(_ => limiter.AttemptAcquire(new Call("192.0.2.1", null)).IsAcquired);
        var withKey = Enumerable.Range(0, 4).Count(_ => limiter.AttemptAcquire(new Call("192.0.2.2", "key-1")).IsAcquired);
        using var sameKeyOtherIp = limiter.AttemptAcquire(new Call("192.0.2.3", "key-1"));

        Assert.Equal(3, anonymous);
        Assert.Equal(2, withKey);
        Assert.False(sameKeyOtherIp.IsAcquired);
        Assert.True(sameKeyOtherIp.TryGetMetadata(SluiceMetadataNames.Layer, out var layer));
        Assert.Equal("api-key", layer);
    }

    [Fact]
    public void AResourceToWhichNoLayerApplies_IsAlwaysAcquired()
    {
        using var limiter = new SluicePartitionedRateLimiter<Call>(_store, [new(RateLimitLayer.FixedWindow("api-key", Rate.Parse("1/min")), c => c.ApiKey)]);

        var acquired = Enumerable.Range(0, 10).Count(_ => limiter.AttemptAcquire(new Call("192.0.2.1", null)).IsAcquired);

        Assert.Equal(10, acquired);
        Assert.Equal(long.MaxValue, limiter.GetStatistics(new Call("192.0.2.1", null))!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task AcquireAsync_DecidesLikeAttemptAcquire()
    {
        using var limiter = Limiter();
        var call = new Call("192.0.2.9", "key-9");

        using var first = await limiter.AcquireAsync(call);
        using var second = await limiter.AcquireAsync(call);
        using var third = await limiter.AcquireAsync(call);

        Assert.True(first.IsAcquired);
        Assert.True(second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.True(third.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(1), retryAfter);
        Assert.Equal(0, limiter.GetStatistics(call)!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task ManyThreadsOnOneKey_AreAdmittedExactlyUpToTheLimit()
    {
        using var limiter = new SluicePartitionedRateLimiter<Call>(
            _store,
            [
                new(RateLimitLayer.FixedWindow("ip", Rate.Parse("1000/min")), c => c.Ip),
                new(RateLimitLayer.FixedWindow("api-key", Rate.Parse("50/min")), c => c.ApiKey),
            ]);
        var acquired = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                // Alternate the synchronous and asynchronous entries and the number of layers that apply.
                var call = new Call("192.0.2." + t, i % 3 == 0 ? null : "shared");
                using var lease = i % 2 == 0 ? limiter.AttemptAcquire(call) : await limiter.AcquireAsync(call);
                if (lease.IsAcquired && call.ApiKey is not null)
                {
                    Interlocked.Increment(ref acquired);
                }
            }
        })));

        Assert.Equal(50, acquired);

        // Each IP paid for its 34 keyless calls and for its share of the 50 keyed admissions; denials charged nothing.
        var spentByIps = Enumerable.Range(0, 8).Sum(t => 1000 - limiter.GetStatistics(new Call("192.0.2." + t, null))!.CurrentAvailablePermits);
        Assert.Equal((8 * 34) + 50, spentByIps);
    }

    [Fact]
    public void InvalidLayers_StopConstructionListingEveryProblem()
    {
        SluiceResourceLayer<Call>[] layers = [null!, new(RateLimitLayer.FixedWindow("a", Rate.Parse("1/s")), null!)];

        var error = Assert.Throws<ArgumentException>(() => new SluicePartitionedRateLimiter<Call>(_store, layers));

        Assert.Contains("layer 0 has no layer", error.Message);
        Assert.Contains("layer 1 has no key selector", error.Message);
    }

    [Fact]
    public void ADisposedLimiter_Throws()
    {
        var limiter = Limiter();

        limiter.Dispose();

        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquire(new Call("192.0.2.1", null)));
    }

    [Fact]
    public async Task AHugeKey_IsLimitedAsItself_ButReachesTheStoreAsItsDigest()
    {
        var store = new RecordingStore(_store);
        var layer = RateLimitLayer.FixedWindow("api-key", Rate.Parse("1/min"));
        using var limiter = new SluicePartitionedRateLimiter<Call>(store, [new(layer, c => c.ApiKey)]);
        var huge = new string('k', 20_000);

        using var first = await limiter.AcquireAsync(new Call("192.0.2.1", huge));
        using var again = await limiter.AcquireAsync(new Call("192.0.2.1", huge));
        using var other = await limiter.AcquireAsync(new Call("192.0.2.1", huge[..^1] + "x"));
        using var fixedLimiter = new SluiceRateLimiter(store, [layer.For(huge)]);
        using var sameKeyFixed = await fixedLimiter.AcquireAsync();

        Assert.True(first.IsAcquired);
        Assert.False(again.IsAcquired);
        Assert.True(other.IsAcquired);
        Assert.False(sameKeyFixed.IsAcquired);
        Assert.NotEmpty(store.Keys);
        Assert.All(store.Keys, k => Assert.True(k.Length <= 256, $"a key of {k.Length} characters reached the store"));
    }

    private SluicePartitionedRateLimiter<Call> Limiter() => new(
        _store,
        [
            new(RateLimitLayer.FixedWindow("ip", Rate.Parse("3/min")), c => c.Ip),
            new(RateLimitLayer.FixedWindow("api-key", Rate.Parse("2/min")), c => c.ApiKey),
        ]);

    private sealed record Call(string Ip, string? ApiKey);
}
