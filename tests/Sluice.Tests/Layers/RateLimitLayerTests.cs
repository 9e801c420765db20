namespace Sluice.Tests.Layers;

public sealed class RateLimitLayerTests
{
    [Fact]
    public void Ctor_EnsureDefaults()
    {
        var layer = new RateLimitLayer("ip", RateLimitAlgorithm.FixedWindow, Rate.Parse("100/min"));

        Assert.False(layer.IsShadow);
        Assert.Equal(10, layer.SlidingWindowSegments);
        Assert.Equal([Rate.Parse("100/min")], layer.Rates);
    }

    [Fact]
    public void Ctor_InvalidLayer_ListsEveryProblem()
    {
        var error = Assert.Throws<ArgumentException>(() => new RateLimitLayer(" ", RateLimitAlgorithm.Concurrency, [Rate.Parse("1/s"), Rate.Parse("1/s")], shadow: false, slidingWindowSegments: 0));

        Assert.Contains("name is empty", error.Message);
        Assert.Contains("exactly one rate", error.Message);
        Assert.Contains("repeated", error.Message);
        Assert.Contains("SlidingWindowSegments is 0", error.Message);
    }

    [Fact]
    public void Ctor_WithoutRates_IsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => RateLimitLayer.FixedWindow("ip"));

        Assert.Contains("no rates", error.Message);
    }

    [Fact]
    public void Concurrency_StoresThePermitLimitAndLeaseLifetime()
    {
        var layer = RateLimitLayer.Concurrency("writes", 1);

        Assert.Equal(new Rate(1, TimeSpan.FromMinutes(5)), Assert.Single(layer.Rates));
    }
}
