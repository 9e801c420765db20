using Sluice.Cli.Acme;

namespace Sluice.Client.Tests;

/// <summary>
/// The lego scenario against the reference server's deSEC limits, the server and the client on one fake clock that
/// moves only when the client waits: pacing is checked to the millisecond, and no test depends on how fast this
/// machine is.
/// </summary>
public sealed class AcmeScenarioTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero));
    private readonly ReferenceServer _server;

    public AcmeScenarioTests() => _server = new ReferenceServer(time: _time);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    private async Task<AcmeReport> Run(AcmeMode mode, int names, string domain)
    {
        var settings = new AcmeSettings(_server.BaseAddress, await _server.NewKeyAsync(), domain, names, mode, ClientRate.ParseList(AcmeCommand.DeSecWriteRates));

        // No attempt timeout: on this clock a request in flight would otherwise have a timer the driver jumps to. Jitter
        // at its middle, so that the naive run's waits are known.
        var runner = new AcmeRunner(settings, _server.Transport(), _time, o => (o.AttemptTimeout, o.Random) = (Timeout.InfiniteTimeSpan, () => 0.5));
        return await FakeClock.DriveAsync(_time, runner.RunAsync());
    }

    [Fact]
    public async Task Bulk_SendsOneRequestPerPhase_AndIsNeverThrottled()
    {
        var report = await Run(AcmeMode.Bulk, 20, "bulk.example");

        Assert.Equal(2, report.Requests);
        Assert.Equal(0, report.Throttled);
        Assert.Equal(0, report.WallSeconds);
    }

    [Fact]
    public async Task Paced_SendsOneRequestPerWrite_AndIsNeverThrottled_AtTheServersRatePlusTheSafetyMargin()
    {
        var report = await Run(AcmeMode.Paced, 3, "paced.example");

        Assert.Equal(6, report.Requests);
        Assert.Equal(0, report.Throttled);

        // Two writes a second: the 3rd and 5th wait for the 1st and 3rd to leave the window, 1 s and the least safety
        // margin (25 ms, more than 2 % of a second) later.
        Assert.Equal(2.05, report.WallSeconds, 6);
    }

    [Fact]
    public async Task Naive_IsThrottled_AndStillFinishesByRetrying()
    {
        var report = await Run(AcmeMode.Naive, 3, "naive.example");

        // The 3rd and 5th writes are refused, each with Retry-After: 2 (the two writes before them sit in one 1 ms segment
        // of the sliding window, which lets them go 1.001 s later, rounded up), and sent again 2 × 1.25 s later.
        Assert.Equal(2, report.Throttled);
        Assert.Equal(8, report.Requests);
        Assert.Equal(5.0, report.WallSeconds, 6);
    }

    [Fact]
    public void TheTheoreticalMinimum_FollowsTheSlowestRate()
    {
        var rates = ClientRate.ParseList("2/s, 15/min");

        Assert.Equal(TimeSpan.FromMilliseconds(10), TheoreticalMinimum.Of(2, rates, TimeSpan.FromMilliseconds(5)));
        Assert.Equal(TimeSpan.FromMilliseconds(1005), TheoreticalMinimum.Of(3, rates, TimeSpan.FromMilliseconds(5)));
        Assert.Equal(TimeSpan.FromMilliseconds(60005), TheoreticalMinimum.Of(16, rates, TimeSpan.FromMilliseconds(5)));
    }
}
