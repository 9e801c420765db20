using System.Diagnostics;
using System.Globalization;

namespace Sluice.Cli.Load;

/// <summary>
/// Sends requests on a fixed schedule (open loop: a slow server does not slow the schedule), bounded in count and time,
/// and records each answer's status and latency. Failures to connect count as status <c>error</c>.
/// </summary>
internal sealed class LoadRunner(LoadSettings settings, HttpMessageHandler? transport = null)
{
    /// <summary>Runs the load; <paramref name="progress"/> hears how many requests have been sent.</summary>
    public async Task<LoadReport> RunAsync(Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient(transport ?? new SocketsHttpHandler { MaxConnectionsPerServer = 256 }, disposeHandler: transport is null) { Timeout = TimeSpan.FromSeconds(30) };
        var total = settings.Total;
        var latencies = new double[total];
        var statuses = new string[total];
        var interval = TimeSpan.FromSeconds(1 / settings.Rate);
        var clock = Stopwatch.StartNew();
        var running = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = interval * i;
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken).ConfigureAwait(false);
            }

            var index = i;
            progress?.Invoke(i + 1);
            running.Add(Task.Run(
                async () =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, settings.Url);
                    if (settings.KeyFor(index) is { } key)
                    {
                        request.Headers.Add("X-API-Key", key);
                    }

                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                        statuses[index] = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                    }
                    catch (HttpRequestException)
                    {
                        statuses[index] = "error";
                    }
                    catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        statuses[index] = "timeout";
                    }

                    latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                },
                cancellationToken));
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        clock.Stop();
        Array.Sort(latencies);
        return new LoadReport(
            total,
            statuses.GroupBy(s => s).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.90),
            Percentile(latencies, 0.99),
            total > 0 ? latencies[^1] : 0,
            clock.Elapsed.TotalSeconds);
    }

    private static double Percentile(double[] sorted, double p)
        => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
