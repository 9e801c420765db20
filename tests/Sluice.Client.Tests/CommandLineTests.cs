using System.Text.Json;
using Sluice.Cli;

namespace Sluice.Client.Tests;

[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>The sluice command against the reference server running in its own process; output is captured from stdout.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CommandLineTests(KestrelServer server) : IClassFixture<KestrelServer>
{
    private Task<(int Exit, string Out, string Error)> Run(params string[] args) => Run(CancellationToken.None, args);

    /// <param name="interrupt">Fires as Ctrl+C would: System.CommandLine hands it to the command.</param>
    /// <param name="args">The command line.</param>
    private static async Task<(int Exit, string Out, string Error)> Run(CancellationToken interrupt, params string[] args)
    {
        using var console = new ConsoleCapture();
        var exit = await SluiceCommandLine.Create().Parse(args).InvokeAsync(cancellationToken: interrupt);
        return (exit, console.Out, console.Error);
    }

    private string Url => server.BaseAddress.AbsoluteUri;

    private static JsonElement Json(string text)
    {
        var start = text.IndexOf('{', StringComparison.Ordinal);
        using var document = JsonDocument.Parse(text[start..]);
        return document.RootElement.Clone();
    }

    private async Task<string> NewKeyAsync()
    {
        var account = Json((await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "accounts", "create", "--name", "cli", "--plan", "pro")).Out).GetProperty("id").GetInt64();
        var key = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "keys", "create", "--account", account.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Json(key.Out).GetProperty("key").GetString()!;
    }

    [Fact]
    public async Task Admin_CreatesAccountsAndKeys_SetsLimitsAndQuotas_AndShowsUsage()
    {
        var created = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "accounts", "create", "--name", "Acme", "--plan", "free");
        var account = Json(created.Out).GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var key = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "keys", "create", "--account", account);
        var keyId = Json(key.Out).GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var limits = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "limits", "set", "--key", keyId, "--rates", "600/min");
        var quota = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "quota", "set", "--account", account, "--monthly", "7");
        var usage = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "usage", "--account", account);

        Assert.Equal(0, created.Exit);
        Assert.StartsWith("sk_", Json(key.Out).GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, limits.Exit);
        Assert.Equal(7, Json(quota.Out).GetProperty("monthly_recipients").GetInt64());
        Assert.Equal(600, Json(usage.Out).GetProperty("keys")[0].GetProperty("rate_limits")[0].GetProperty("limit").GetInt64());
    }

    [Fact]
    public async Task Admin_QuotaSetWithoutMonthly_RestoresThePlansQuota()
    {
        var created = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "accounts", "create", "--name", "Acme", "--plan", "free");
        var account = Json(created.Out).GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "quota", "set", "--account", account, "--monthly", "7");

        var restored = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "quota", "set", "--account", account);

        Assert.Equal(0, restored.Exit);
        Assert.Equal(50, Json(restored.Out).GetProperty("monthly_recipients").GetInt64());
        Assert.Equal(JsonValueKind.Null, Json(restored.Out).GetProperty("monthly_recipients_override").ValueKind);
    }

    [Fact]
    public async Task Admin_ReportsARefusal_WithAFailingExitCode()
    {
        var result = await Run("admin", "--server", Url, "--token", KestrelServer.AdminToken, "limits", "set", "--key", "999", "--rates", "-1/min");
        var wrongToken = await Run("admin", "--server", Url, "--token", "wrong-token-123456", "usage", "--account", "1");

        Assert.Equal(1, result.Exit);
        Assert.Contains("400", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, wrongToken.Exit);
        Assert.Contains("401", wrongToken.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acme_WithJson_EndsWithOneJsonObjectOnTheLastLine()
    {
        var key = await NewKeyAsync();

        var result = await Run("acme", "--server", Url, "--token", key, "--domain", "cli.example", "--names", "5", "--mode", "bulk", "--json");
        var last = JsonDocument.Parse(result.Out.TrimEnd().Split('\n')[^1]).RootElement;

        Assert.Equal(0, result.Exit);
        Assert.Equal(2, last.GetProperty("requests").GetInt32());
        Assert.Equal(0, last.GetProperty("throttled").GetInt32());
        Assert.True(last.GetProperty("wall_seconds").GetDouble() > 0);
        Assert.True(last.GetProperty("theoretical_min_seconds").GetDouble() > 0);
    }

    [Fact]
    public async Task Load_ReportsStatusCountsAndLatencyPercentiles()
    {
        var result = await Run("load", "--url", Url + "healthz", "--rate", "40", "--duration", "1", "--json");
        var report = JsonDocument.Parse(result.Out.TrimEnd().Split('\n')[^1]).RootElement;

        Assert.Equal(0, result.Exit);
        Assert.Equal(40, report.GetProperty("sent").GetInt32());
        Assert.Equal(40, report.GetProperty("statuses").GetProperty("200").GetInt32());
        Assert.True(report.GetProperty("p99_ms").GetDouble() >= report.GetProperty("p50_ms").GetDouble());
    }

    [Fact]
    public async Task Load_SendsTheKeysOfAKeyFile_InTurn()
    {
        var key = await NewKeyAsync();
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, key + "\n");
        try
        {
            var withKeys = await Run("load", "--url", Url + "api/me", "--rate", "20", "--duration", "1", "--key-file", file, "--json");
            var without = await Run("load", "--url", Url + "api/me", "--rate", "5", "--duration", "1", "--json");
            var missing = await Run("load", "--url", Url + "api/me", "--key-file", file + ".missing");

            Assert.Equal(20, JsonDocument.Parse(withKeys.Out.TrimEnd().Split('\n')[^1]).RootElement.GetProperty("statuses").GetProperty("200").GetInt32());
            Assert.Equal(5, JsonDocument.Parse(without.Out.TrimEnd().Split('\n')[^1]).RootElement.GetProperty("statuses").GetProperty("401").GetInt32());
            Assert.Equal(2, missing.Exit);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void EveryCommand_HasADescriptionInItsHelp()
    {
        var undescribed = new List<string>();
        Walk(SluiceCommandLine.Create(), "sluice");
        Assert.Empty(undescribed);

        void Walk(System.CommandLine.Command command, string path)
        {
            if (string.IsNullOrWhiteSpace(command.Description))
            {
                undescribed.Add(path);
            }

            foreach (var child in command.Subcommands)
            {
                Walk(child, path + " " + child.Name);
            }
        }
    }

    [Theory]
    [InlineData("load", "--url", "not-a-url")]
    [InlineData("load", "--url", "http://127.0.0.1:1/", "--rate", "0")]
    [InlineData("load", "--url", "http://127.0.0.1:1/", "--rate", "NaN")]
    [InlineData("load", "--url", "http://127.0.0.1:1/", "--duration", "NaN")]
    [InlineData("load", "--url", "http://127.0.0.1:1/", "--duration", "Infinity")]
    [InlineData("load", "--url", "http://127.0.0.1:1/", "--warmup", "11")]
    [InlineData("acme", "--server", "http://127.0.0.1:1/", "--token", "t", "--domain", "d.example", "--rates", "5/99999999999999day")]
    [InlineData("admin", "--server", "http://127.0.0.1:1/", "--token", "t", "usage", "--account", "1")]
    [InlineData("acme", "--server", "http://127.0.0.1:1/", "--token", "t", "--domain", "d.example", "--mode", "reckless")]
    [InlineData("acme", "--server", "http://127.0.0.1:1/", "--token", "t", "--domain", "d.example", "--rates", "2/fortnight")]
    public async Task BadArguments_FailWithAMessage_AndSendNothing(params string[] args)
    {
        var result = await Run(args);

        Assert.NotEqual(0, result.Exit);
        Assert.NotEmpty(result.Error + result.Out);
        Assert.DoesNotContain("   at ", result.Error + result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_WithAWarmup_SendsItFirst_AndReportsOnlyTheMeasuredRequests()
    {
        var sent = 0;
        var transport = new CountingTransport(() => Interlocked.Increment(ref sent));
        var settings = new Sluice.Cli.Load.LoadSettings(new Uri("http://load.test/"), 200, TimeSpan.FromSeconds(0.25), 0, "k");

        var report = await new Sluice.Cli.Load.LoadRunner(settings, transport).RunAsync(warmup: TimeSpan.FromSeconds(0.1));

        Assert.Equal(50, report.Sent);
        Assert.Equal(50, report.Statuses["200"]);
        Assert.Equal(70, sent);
    }

    [Fact]
    public async Task Load_InterruptedByCtrlC_PrintsWhatWasSent_AndExitsWith130()
    {
        using var interrupt = new CancellationTokenSource(TimeSpan.FromMilliseconds(600));

        var result = await Run(interrupt.Token, "load", "--url", Url + "healthz", "--rate", "50", "--duration", "60", "--json");

        var report = JsonDocument.Parse(result.Out.TrimEnd().Split('\n')[^1]).RootElement;
        var sent = report.GetProperty("sent").GetInt32();
        Assert.Equal(130, result.Exit);
        Assert.True(report.GetProperty("interrupted").GetBoolean());
        Assert.InRange(sent, 1, 2_999);
        Assert.Equal(sent, report.GetProperty("statuses").EnumerateObject().Sum(s => s.Value.GetInt32()));
        Assert.Contains($"Interrupted: {sent} of 3000 requests sent.", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_Interrupted_CountsRequestsWithoutAnAnswerAsCancelled_AndLeavesThemOutOfTheLatencies()
    {
        // On a fake clock, so that a loaded machine cannot make an answered request look slow: 100 requests a second,
        // the 4th (due at 30 ms) hangs and interrupts the run 300 ms later.
        var clock = new ManualTimeProvider();
        using var interrupt = new CancellationTokenSource(Timeout.InfiniteTimeSpan, clock);
        var transport = new AnswersThenHangs(answered: 3, onFirstHang: () => interrupt.CancelAfter(TimeSpan.FromMilliseconds(300)));
        var settings = new Sluice.Cli.Load.LoadSettings(new Uri("http://load.test/"), 100, TimeSpan.FromSeconds(60), 0, "k");
        var runner = new Sluice.Cli.Load.LoadRunner(settings, transport, clock);

        var report = await FakeClock.DriveAsync(clock, runner.RunAsync(cancellationToken: interrupt.Token), TimeSpan.FromSeconds(5));

        Assert.True(report.Interrupted);
        Assert.Equal(3, report.Statuses["200"]);
        Assert.Equal(report.Sent - 3, report.Statuses[Sluice.Cli.Load.LoadRunner.Cancelled]);
        // Due at 0, 10, ..., 320 ms, and the one due at 330 ms unless the interruption comes first.
        Assert.InRange(report.Sent, 33, 34);

        // The abandoned requests waited at least 300 ms; the answered ones were answered at once.
        Assert.True(report.MaxMs < 250, $"max {report.MaxMs} ms includes an abandoned request");
    }

    [Fact]
    public async Task Load_InterruptedDuringTheWarmup_SaysNothingWasMeasured()
    {
        using var interrupt = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var result = await Run(interrupt.Token, "load", "--url", Url + "healthz", "--rate", "20", "--duration", "5", "--warmup", "10");

        Assert.Equal(130, result.Exit);
        Assert.Contains("nothing was measured", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("latency", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acme_Interrupted_SaysWhatMayRemain_AndExitsWith130()
    {
        var token = await NewKeyAsync();
        using var interrupt = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        // Naive mode with deSEC's 2/s: the run waits on throttled writes long past the interruption.
        var result = await Run(interrupt.Token, "acme", "--server", Url, "--token", token, "--domain", "interrupted.example", "--names", "20", "--mode", "naive");

        Assert.Equal(130, result.Exit);
        Assert.Contains("Interrupted: challenges written so far may remain on interrupted.example", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_MeasuresLatencyFromWhenEachRequestWasDue_SoAStallIsNotHidden()
    {
        // 20 requests at 100/s against a transport that answers at once, on a fake clock; the first progress report
        // stalls the sending loop for 300 ms (the clock moves while it runs), so requests 2 to 20 leave at 300 ms, up to
        // 290 ms after they were due, and the clock does not move again.
        var clock = new ManualTimeProvider();
        var settings = new Sluice.Cli.Load.LoadSettings(new Uri("http://load.test/"), 100, TimeSpan.FromSeconds(0.2), 0, "k");
        var runner = new Sluice.Cli.Load.LoadRunner(settings, new CountingTransport(() => { }), clock);

        var report = await runner.RunAsync(progress: sent =>
        {
            if (sent == 1)
            {
                clock.Advance(TimeSpan.FromMilliseconds(300));
            }
        });

        // Measured from their due times (0, 10, ..., 190 ms), the latencies are 300, 290, ..., 110 ms; measured from the
        // send, every one would be 0 but the first.
        Assert.Equal(20, report.Statuses["200"]);
        Assert.Equal(300, report.MaxMs, 3);
        Assert.Equal(200, report.P50Ms, 3);
        Assert.Equal(0.3, report.WallSeconds, 3);
    }

    /// <summary>Answers the first requests at once; every later one waits until it is cancelled.</summary>
    private sealed class AnswersThenHangs(int answered, Action onFirstHang) : HttpMessageHandler
    {
        private int _seen;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var seen = Interlocked.Increment(ref _seen);
            if (seen <= answered)
            {
                return new HttpResponseMessage(System.Net.HttpStatusCode.OK);
            }

            if (seen == answered + 1)
            {
                onFirstHang();
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    private sealed class CountingTransport(Action counted) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counted();
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }
}
