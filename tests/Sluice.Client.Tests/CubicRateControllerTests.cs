namespace Sluice.Client.Tests;

public sealed class CubicRateControllerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);

    private static (CubicRateController Controller, DateTimeOffset Now) SendingAt(double perSecond, double seconds)
    {
        var controller = new CubicRateController();
        var now = Start;
        var step = TimeSpan.FromSeconds(1 / perSecond);
        for (var i = 0; i < perSecond * seconds; i++)
        {
            Assert.Equal(TimeSpan.Zero, controller.Acquire(now));
            now += step;
        }

        return (controller, now);
    }

    [Fact]
    public void BeforeAnyThrottle_NothingIsPaced()
    {
        var (controller, _) = SendingAt(20, 5);

        Assert.Equal(0, controller.FillRate);
        Assert.InRange(controller.MeasuredRate, 18, 22);
    }

    [Fact]
    public void AThrottle_DropsTheRateToBetaOfTheMeasuredRate()
    {
        var (controller, now) = SendingAt(20, 5);

        controller.OnThrottle(now);

        Assert.InRange(controller.FillRate, 0.7 * 18, 0.7 * 22);
    }

    [Fact]
    public void AfterAThrottle_TheRateRegainsWMax_AfterKSeconds()
    {
        var (controller, now) = SendingAt(20, 5);
        var wMax = controller.MeasuredRate;
        controller.OnThrottle(now);
        var k = Math.Cbrt(wMax * (1 - CubicRateController.Beta) / CubicRateController.C);

        controller.OnSuccess(now + TimeSpan.FromSeconds(k / 2));
        var halfway = controller.FillRate;
        controller.OnSuccess(now + TimeSpan.FromSeconds(k));
        var atK = controller.FillRate;

        Assert.InRange(halfway, 0.7 * wMax, wMax);
        Assert.Equal(wMax, atK, 3);
    }

    [Fact]
    public void WhileThrottled_RequestsAreSpacedByTheFillRate()
    {
        var (controller, now) = SendingAt(20, 5);
        controller.OnThrottle(now);
        var rate = controller.FillRate;

        var waits = Enumerable.Range(0, 40).Select(_ => controller.Acquire(now)).ToList();

        Assert.True(waits[^1] >= TimeSpan.FromSeconds((40 - rate - 1) / rate));
    }

    [Fact]
    public void ARefusedTryAcquire_TakesNoToken()
    {
        var (controller, now) = SendingAt(20, 5);
        controller.OnThrottle(now);
        var drained = 0;
        while (controller.TryAcquire(now, TimeSpan.Zero, out _) && drained < 100)
        {
            drained++;
        }

        for (var i = 0; i < 40; i++)
        {
            Assert.False(controller.TryAcquire(now, TimeSpan.Zero, out var wait));
            Assert.True(wait > TimeSpan.Zero);
        }

        var oneToken = TimeSpan.FromSeconds(1.001 / controller.FillRate);
        Assert.True(drained < 100);
        Assert.True(controller.TryAcquire(now + oneToken, TimeSpan.Zero, out _));
    }

    [Fact]
    public void AReturnedToken_ShortensTheNextWait_ByOneToken()
    {
        var (controller, now) = SendingAt(20, 5);
        controller.OnThrottle(now);
        while (controller.TryAcquire(now, TimeSpan.Zero, out _))
        {
        }

        Assert.True(controller.TryAcquire(now, TimeSpan.MaxValue, out var first));
        controller.Return(now);
        Assert.True(controller.TryAcquire(now, TimeSpan.MaxValue, out var again));

        Assert.True(first > TimeSpan.Zero);
        Assert.Equal(first, again);
    }

    [Fact]
    public async Task TheAdaptiveHandler_SlowsDownAfterA429_FromAServerThatPublishesNothing()
    {
        var h = new ClientHarness(o => o.Adaptive = true);
        h.Server.Then(System.Net.HttpStatusCode.OK).Then(System.Net.HttpStatusCode.TooManyRequests, ("Retry-After", "1"));
        using var client = h.NewClient();

        await h.Drive(client.GetAsync("a"));
        await h.Drive(client.GetAsync("b"));

        Assert.True(h.Options.Registry.Find("http://api.test|read")!.Adaptive.FillRate > 0);
    }
}
