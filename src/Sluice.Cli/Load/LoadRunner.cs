using System.Diagnostics;
using System.Globalization;

namespace Sluice.Cli.Load;

/// <summary>
/// Sends requests on a fixed schedule (open loop: a slow server does not slow the schedule), bounded in count and time,
/// and records each answer's status and latency. Failures to connect count as status <c>error</c>.
/// </summary>
internal sealed class LoadRunner(LoadSettings settings, HttpMessageHandler? transport = null)
{
    /// <summary>The longest unmeasured warm-up a run may have.</summary>
    public static readonly TimeSpan MaxWarmup = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs the load; <paramref name="progress"/> hears how many measured requests have been sent. With a
    /// <paramref name="warmup"/>, the same load is first sent for that long (at most <see cref="MaxWarmup"/>) on the same
    /// connections and left out of the report, so the measured run pays no first-use costs (JIT, connecting).
    /// </summary>
    public async Task<LoadReport> RunAsync(Action<int>? progress = null, CancellationToken cancellationToken = default, TimeSpan warmup = default)
    {
        using var http = new HttpClient(transport ?? new SocketsHttpHandler { MaxConnectionsPerServer = 256 }, disposeHandler: transport is null) { Timeout = TimeSpan.FromSeconds(30) };
        if (warmup > TimeSpan.Zero)
        {
            var unmeasured = (int)Math.Min(settings.Total, Math.Round(settings.Rate * Math.Min(warmup.TotalSeconds, MaxWarmup.TotalSeconds)));
            await SendAsync(http, unmeasured, new double[unmeasured], new string[unmeasured], null, cancellationToken).ConfigureAwait(false);
        }

        var total = settings.Total;
        var latencies = new double[total];
        var statuses = new string[total];
        var clock = Stopwatch.StartNew();
        await SendAsync(http, total, latencies, statuses, progress, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Sends <paramref name="total"/> requests on the schedule and waits for every answer.</summary>
    private async Task SendAsync(HttpClient http, int total, double[] latencies, string[] statuses, Action<int>? progress, CancellationToken cancellationToken)
    {
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
    }

    private static double Percentile(double[] sorted, double p)
        => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
