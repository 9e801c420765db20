using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Sluice.Cli.Output;
using Spectre.Console;

namespace Sluice.Cli.Load;

/// <summary><c>sluice load</c>: a bounded load generator reporting status counts and latency percentiles.</summary>
internal static class LoadCommand
{
    /// <summary>The exit code of a run stopped by Ctrl+C (128 + SIGINT), after its partial report.</summary>
    public const int InterruptedExitCode = 130;

    public static Command Create()
    {
        var url = Http.UrlOption.Create("--url", "The URL to GET.");
        var rate = new Option<double>("--rate") { Description = "Requests per second (at most 20000).", DefaultValueFactory = _ => 10 };
        var duration = new Option<double>("--duration") { Description = "Seconds to run (at most 600).", DefaultValueFactory = _ => 10 };
        var keys = new Option<int>("--keys") { Description = "Spread requests over this many X-API-Key values (0: none).", DefaultValueFactory = _ => 0 };
        var keyPrefix = new Option<string>("--key-prefix") { Description = "Key values are this prefix and a number.", DefaultValueFactory = _ => "load-key-" };
        var keyFile = new Option<FileInfo>("--key-file") { Description = "Real API keys, one per line, sent in turn (instead of --keys)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var warmup = new Option<double>("--warmup") { Description = $"First send the same load for this many seconds (at most {LoadRunner.MaxWarmup.TotalSeconds}), unmeasured, so the measured run has no first-use costs (JIT, connecting).", DefaultValueFactory = _ => 0 };
        var command = new Command("load", "Send GET requests at a fixed rate for a bounded time; report status counts and latency percentiles.")
        {
            url, rate, duration, keys, keyPrefix, keyFile, json, warmup,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var problems = new List<string>();
            IReadOnlyList<string>? keyList = null;
            if (parse.GetValue(keyFile) is { } file)
            {
                if (file.Exists)
                {
                    keyList = (await File.ReadAllLinesAsync(file.FullName, cancellationToken)).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
                    if (keyList.Count == 0)
                    {
                        problems.Add($"--key-file {file.FullName} holds no keys.");
                    }
                }
                else
                {
                    problems.Add($"--key-file {file.FullName} does not exist.");
                }
            }

            // Range checks are written so that NaN fails them too (every comparison with NaN is false).
            var rateValue = parse.GetValue(rate);
            if (!(rateValue > 0 && rateValue <= 20_000))
            {
                problems.Add("--rate must be above 0 and at most 20000.");
            }

            var seconds = parse.GetValue(duration);
            if (!(seconds > 0 && seconds <= 600))
            {
                problems.Add("--duration must be above 0 and at most 600 seconds.");
            }

            var warmupFor = parse.GetValue(warmup);
            if (!(warmupFor >= 0 && warmupFor <= LoadRunner.MaxWarmup.TotalSeconds))
            {
                problems.Add($"--warmup must be between 0 and {LoadRunner.MaxWarmup.TotalSeconds} seconds.");
            }

            var keyCount = parse.GetValue(keys);
            if (keyCount < 0)
            {
                problems.Add("--keys must not be negative.");
            }

            if (problems.Count > 0)
            {
                await Console.Error.WriteLineAsync(string.Join(Environment.NewLine, problems));
                return 2;
            }

            var settings = new LoadSettings(parse.GetValue(url)!, rateValue, TimeSpan.FromSeconds(seconds), keyCount, parse.GetValue(keyPrefix)!, keyList);
            var asJson = parse.GetValue(json);
            LoadReport report;
            try
            {
                report = asJson
                    ? await new LoadRunner(settings).RunAsync(cancellationToken: cancellationToken, warmup: TimeSpan.FromSeconds(warmupFor))
                    : await CliConsole.WithProgressAsync(
                        $"GET {settings.Url} at {settings.Rate}/s",
                        settings.Total,
                        progress => new LoadRunner(settings).RunAsync(sent => progress(sent), cancellationToken, TimeSpan.FromSeconds(warmupFor)));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("Interrupted during the warm-up: nothing was measured.");
                return InterruptedExitCode;
            }

            Print(report, asJson, CliConsole.Results());
            if (report.Interrupted)
            {
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Interrupted: {report.Sent} of {settings.Total} requests sent."));
                return InterruptedExitCode;
            }

            return 0;
        });
        return command;
    }

    internal static void Print(LoadReport report, bool asJson, IAnsiConsole console)
    {
        if (asJson)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                sent = report.Sent,
                statuses = report.Statuses,
                p50_ms = Math.Round(report.P50Ms, 3),
                p90_ms = Math.Round(report.P90Ms, 3),
                p99_ms = Math.Round(report.P99Ms, 3),
                max_ms = Math.Round(report.MaxMs, 3),
                wall_seconds = Math.Round(report.WallSeconds, 3),
                interrupted = report.Interrupted,
            }));
            return;
        }

        var table = new Table().AddColumns("status", "count");
        foreach (var (status, count) in report.Statuses)
        {
            table.AddRow(status, count.ToString(CultureInfo.InvariantCulture));
        }

        console.Write(table);
        console.MarkupLine(CultureInfo.InvariantCulture, "latency p50 {0:0.00} ms, p90 {1:0.00} ms, p99 {2:0.00} ms, max {3:0.00} ms; {4} requests in {5:0.00} s", report.P50Ms, report.P90Ms, report.P99Ms, report.MaxMs, report.Sent, report.WallSeconds);
    }
}
