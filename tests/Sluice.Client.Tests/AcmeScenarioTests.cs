using Sluice.Cli.Acme;

namespace Sluice.Client.Tests;

/// <summary>
/// Real-time pacing against the reference server's 2/s: the client keeps a 25 ms margin, so it runs alone, after the
/// other classes, where no parallel test delays one request by more than that (a fresh clone's first run once saw a 7th
/// request while other classes ran beside it).
/// </summary>
[CollectionDefinition(nameof(AcmeScenarioTests), DisableParallelization = true)]
public sealed class AcmeScenarioCollection;

[Collection(nameof(AcmeScenarioTests))]
public sealed class AcmeScenarioTests : IAsyncLifetime
{
    private readonly ReferenceServer _server = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    private async Task<AcmeReport> Run(AcmeMode mode, int names, string domain)
    {
        var settings = new AcmeSettings(_server.BaseAddress, await _server.NewKeyAsync(), domain, names, mode, ClientRate.ParseList(AcmeCommand.DeSecWriteRates));
        return await new AcmeRunner(settings, _server.Transport()).RunAsync();
    }

    [Fact]
    public async Task Bulk_SendsOneRequestPerPhase_AndIsNeverThrottled()
    {
        var report = await Run(AcmeMode.Bulk, 20, "bulk.example");

        Assert.Equal(2, report.Requests);
        Assert.Equal(0, report.Throttled);
    }

    [Fact]
    public async Task Paced_SendsOneRequestPerWrite_AndIsNeverThrottled()
    {
        var report = await Run(AcmeMode.Paced, 3, "paced.example");

        Assert.Equal(6, report.Requests);
        Assert.Equal(0, report.Throttled);
        Assert.True(report.WallSeconds >= 2, $"six writes at 2/s take at least 2 s, not {report.WallSeconds}");
    }

    [Fact]
    public async Task Naive_IsThrottled_AndStillFinishesByRetrying()
    {
        var report = await Run(AcmeMode.Naive, 3, "naive.example");

        Assert.True(report.Throttled > 0);
        Assert.Equal(6 + report.Throttled, report.Requests);
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
