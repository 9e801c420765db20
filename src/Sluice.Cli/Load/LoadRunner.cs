using System.Globalization;

namespace Sluice.Cli.Load;

/// <summary>
/// Sends requests on a fixed schedule (open loop: a slow server does not slow the schedule), bounded in count and time,
/// and records each answer's status and latency. Failures to connect count as status <c>error</c>. The schedule and the
/// latencies come from <c>time</c> (<see cref="TimeProvider.System"/> unless given).
/// </summary>
internal sealed class LoadRunner(LoadSettings settings, HttpMessageHandler? transport = null, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The longest unmeasured warm-up a run may have.</summary>
    public static readonly TimeSpan MaxWarmup = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs the load; <paramref name="progress"/> hears how many measured requests have been sent. With a
    /// <paramref name="warmup"/>, the same load is first sent for that long (at most <see cref="MaxWarmup"/>) on the same
    /// connections and left out of the report, so the measured run pays no first-use costs (JIT, connecting).
    /// </summary>
    /// <remarks>
    /// When <paramref name="cancellationToken"/> fires (Ctrl+C) during the measured run, no further request is sent,
    /// requests still waiting for an answer are abandoned and counted as <c>cancelled</c>, and the report covers what
    /// was sent so far (<see cref="LoadReport.Interrupted"/>). Cancelled during the warm-up, it throws
    /// <see cref="OperationCanceledException"/>: nothing was measured.
    /// </remarks>
    public async Task<LoadReport> RunAsync(Action<int>? progress = null, CancellationToken cancellationToken = default, TimeSpan warmup = default)
    {
        using var http = new HttpClient(transport ?? new SocketsHttpHandler { MaxConnectionsPerServer = 256 }, disposeHandler: transport is null) { Timeout = TimeSpan.FromSeconds(30) };
        if (warmup > TimeSpan.Zero)
        {
            var unmeasured = (int)Math.Min(settings.Total, Math.Round(settings.Rate * Math.Min(warmup.TotalSeconds, MaxWarmup.TotalSeconds)));
            await SendAsync(http, unmeasured, new double[unmeasured], new string[unmeasured], null, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        var total = settings.Total;
        var latencies = new double[total];
        var statuses = new string[total];
        var measuredFrom = _time.GetTimestamp();
        var sent = await SendAsync(http, total, latencies, statuses, progress, cancellationToken).ConfigureAwait(false);
        var elapsed = _time.GetElapsedTime(measuredFrom);

        // Requests abandoned at an interruption have no latency: the percentiles are over the answered ones.
        var answered = Enumerable.Range(0, sent).Where(i => statuses[i] != Cancelled).Select(i => latencies[i]).Order().ToArray();
        return new LoadReport(
            sent,
            statuses.Take(sent).GroupBy(s => s).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            Percentile(answered, 0.50),
            Percentile(answered, 0.90),
            Percentile(answered, 0.99),
            answered.Length > 0 ? answered[^1] : 0,
            elapsed.TotalSeconds)
        {
            Interrupted = sent < total || cancellationToken.IsCancellationRequested,
        };
    }

    /// <summary>The status of a request abandoned because the run was interrupted.</summary>
    internal const string Cancelled = "cancelled";

    /// <summary>
    /// Sends up to <paramref name="total"/> requests on the schedule and waits for every answer; stops sending when
    /// <paramref name="cancellationToken"/> fires. Returns how many were sent.
    /// </summary>
    private async Task<int> SendAsync(HttpClient http, int total, double[] latencies, string[] statuses, Action<int>? progress, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(1 / settings.Rate);
        var started = _time.GetTimestamp();
        var running = new List<Task>(total);
        var sent = 0;
        for (var i = 0; i < total && !cancellationToken.IsCancellationRequested; i++)
        {
            var due = interval * i;

            // The clock is read once: read again for the delay, it could have passed the due time, and a negative
            // delay throws.
            var wait = due - _time.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var index = i;
            sent = i + 1;
            progress?.Invoke(sent);
            running.Add(SendOneAsync(http, index, started + (long)(due.TotalSeconds * _time.TimestampFrequency), latencies, statuses, cancellationToken));
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        return sent;
    }

    /// <summary>
    /// Sends request <paramref name="index"/> and records its status and its latency, measured from
    /// <paramref name="scheduled"/>, the time it was due (a timestamp of the runner's <see cref="TimeProvider"/>), not the time it left: a
    /// request that this process sent late, behind a stall, counts the wait it was made to do, as wrk2 counts it.
    /// Measured from the actual send, a stall would show as one slow request among many fast ones (coordinated omission).
    /// </summary>
    private async Task SendOneAsync(HttpClient http, int index, long scheduled, double[] latencies, string[] statuses, CancellationToken cancellationToken)
    {
        // Off the scheduling loop: building and sending a request must not delay the next one's due time.
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, settings.Url);
        if (settings.KeyFor(index) is { } key)
        {
            request.Headers.Add("X-API-Key", key);
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            statuses[index] = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            statuses[index] = "error";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            statuses[index] = Cancelled;
        }
        catch (TaskCanceledException)
        {
            statuses[index] = "timeout";
        }

        latencies[index] = _time.GetElapsedTime(scheduled).TotalMilliseconds;
    }

    private static double Percentile(double[] sorted, double p)
        => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
