using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Sluice.Cli.Output;
using Sluice.Client;
using Spectre.Console;

namespace Sluice.Cli.Acme;

/// <summary><c>sluice acme</c>: the lego scenario against a deSEC-style DNS API.</summary>
internal static class AcmeCommand
{
    /// <summary>deSEC's per-domain RRset write limits.</summary>
    public const string DeSecWriteRates = "2/s, 15/min, 100/h, 300/day";

    public static Command Create()
    {
        var server = Http.UrlOption.Create("--server", "The DNS API's base URL, e.g. http://127.0.0.1:5080/");
        var token = new Option<string>("--token") { Description = "The API token (sent as 'Authorization: Token ...').", Required = true };
        var domain = new Option<string>("--domain") { Description = "The domain to write challenges to (created if missing).", Required = true };
        var names = new Option<int>("--names") { Description = "How many names (one TXT RRset each).", DefaultValueFactory = _ => 6 };
        var mode = new Option<string>("--mode") { Description = "naive | paced | bulk", DefaultValueFactory = _ => "bulk" };
        mode.AcceptOnlyFromAmong("naive", "paced", "bulk");
        var rates = new Option<string>("--rates") { Description = "The write rates to be kind to (per domain).", DefaultValueFactory = _ => DeSecWriteRates };
        var json = new Option<bool>("--json") { Description = "End with one JSON object on the last line of stdout." };
        var warmup = new Option<bool>("--warmup") { Description = "First run the same scenario, unmeasured, on the domain 'warmup-<domain>', so the measured run has no first-use costs (JIT)." };
        var command = new Command("acme", "Present and clean up one TXT challenge per name, as an ACME client does, and report requests, 429s and time.")
        {
            server, token, domain, names, mode, rates, json, warmup,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(names);
            if (count is < 1 or > 10_000)
            {
                await Console.Error.WriteLineAsync("--names must be between 1 and 10000.");
                return 2;
            }

            IReadOnlyList<ClientRate> parsedRates;
            try
            {
                parsedRates = ClientRate.ParseList(parse.GetValue(rates)!);
            }
            catch (FormatException e)
            {
                await Console.Error.WriteLineAsync("--rates: " + e.Message);
                return 2;
            }

            var baseUri = parse.GetValue(server)!;
            if (!baseUri.AbsoluteUri.EndsWith('/'))
            {
                baseUri = new Uri(baseUri.AbsoluteUri + "/");
            }

            var settings = new AcmeSettings(baseUri, parse.GetValue(token)!, parse.GetValue(domain)!, count, Enum.Parse<AcmeMode>(parse.GetValue(mode)!, ignoreCase: true), parsedRates);
            var asJson = parse.GetValue(json);
            AcmeReport report;
            try
            {
                if (parse.GetValue(warmup))
                {
                    await new AcmeRunner(settings with { Domain = "warmup-" + settings.Domain }).RunAsync(cancellationToken: cancellationToken);
                }

                report = asJson
                    ? await new AcmeRunner(settings).RunAsync(cancellationToken: cancellationToken)
                    : await CliConsole.WithProgressAsync(
                        $"{settings.Mode.ToString().ToLowerInvariant()}: {count} names",
                        count * 2,
                        progress => new AcmeRunner(settings).RunAsync((done, _) => progress(done), cancellationToken));
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync("The run failed: " + e.Message);
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"Interrupted: challenges written so far may remain on {settings.Domain} (and on warmup-{settings.Domain} with --warmup).");
                return Load.LoadCommand.InterruptedExitCode;
            }

            Print(report, asJson, CliConsole.Results());
            return 0;
        });
        return command;
    }

    internal static void Print(AcmeReport report, bool asJson, IAnsiConsole console)
    {
        if (asJson)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                mode = report.Mode,
                names = report.Names,
                requests = report.Requests,
                throttled = report.Throttled,
                wall_seconds = Math.Round(report.WallSeconds, 5),
                theoretical_min_seconds = Math.Round(report.TheoreticalMinSeconds, 5),
                ratio = Math.Round(report.Ratio, 3),
                fastest_round_trip_seconds = Math.Round(report.FastestRoundTripSeconds, 5),
            }));
            return;
        }

        var table = new Table().AddColumns("mode", "names", "requests", "429s", "wall (s)", "theoretical min (s)", "ratio");
        table.AddRow(
            report.Mode,
            report.Names.ToString(CultureInfo.InvariantCulture),
            report.Requests.ToString(CultureInfo.InvariantCulture),
            report.Throttled.ToString(CultureInfo.InvariantCulture),
            report.WallSeconds.ToString("0.000", CultureInfo.InvariantCulture),
            report.TheoreticalMinSeconds.ToString("0.000", CultureInfo.InvariantCulture),
            report.Ratio.ToString("0.00", CultureInfo.InvariantCulture));
        console.Write(table);
    }
}
