using Sluice.Cli.Http;
using Sluice.Client;
using Sluice.Client.Dns;

namespace Sluice.Cli.Acme;

/// <summary>
/// The seed's scenario: an ACME client presents one TXT challenge per name (<c>_acme-challenge.nameK</c>), one after
/// another, then cleans them all up. Naive sends each write at once and retries 429s; paced sends each through the
/// pacing handler; bulk coalesces each phase into bulk requests with a batch scope. Pacing, retries and the reported
/// times run on <paramref name="time"/> (the system's clock by default); <paramref name="configure"/> may change the
/// client's options last.
/// </summary>
internal sealed class AcmeRunner(AcmeSettings settings, HttpMessageHandler? transport = null, TimeProvider? time = null, Action<SluiceClientOptions>? configure = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Runs the scenario; <paramref name="progress"/> hears (writes done, writes in all).</summary>
    public async Task<AcmeReport> RunAsync(Action<int, int>? progress = null, CancellationToken cancellationToken = default)
    {
        var counter = new CountingHandler(_time) { InnerHandler = transport ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } };
        var options = new SluiceClientOptions { Pacing = settings.Mode != AcmeMode.Naive, Registry = new PacerRegistry(), TimeProvider = _time };
        if (settings.Mode == AcmeMode.Naive)
        {
            // Like lego: retry every 429 (six attempts each), with no budget to stop it.
            options.RetryBudget = new RetryBudget(ratio: 0, minimum: 1_000_000);
        }

        foreach (var rate in settings.Rates)
        {
            options.WriteRates.Add(rate);
        }

        configure?.Invoke(options);

        using var http = new HttpClient(new SluiceClientHandler(options, counter)) { BaseAddress = settings.Server, Timeout = Timeout.InfiniteTimeSpan };
        var dns = new DnsApiClient(http, settings.Token);

        // Not part of the measured run: make sure the domain exists (and the connection is warm).
        if (await dns.GetDomainAsync(settings.Domain, cancellationToken).ConfigureAwait(false) is null)
        {
            await dns.CreateDomainAsync(settings.Domain, cancellationToken).ConfigureAwait(false);
        }

        // Also not measured: list the domain's RRsets once, which loads and compiles the JSON paths a first request
        // would otherwise pay for inside the measurement (a long-running client has paid it long before).
        await dns.ListRRsetsAsync(settings.Domain, cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (var warm = new DnsBulkWriter(dns))
        {
            await warm.BeginBatch().CommitAsync().ConfigureAwait(false);
        }

        try
        {
            // The write path too, against a fresh domain that does not exist (404), so no rate of a real domain is used.
            await dns.WriteRRsetsAsync($"warm-up-{Guid.NewGuid():N}.invalid", [new RRsetWrite("warm", "TXT", 3600, ["\"x\""])], cancellationToken).ConfigureAwait(false);
        }
        catch (DnsApiException)
        {
        }

        counter.Reset();
        var total = settings.Names * 2;
        var done = 0;
        var started = _time.GetTimestamp();
        foreach (var cleanup in new[] { false, true })
        {
            var writes = Enumerable.Range(1, settings.Names)
                .Select(k => new RRsetWrite($"_acme-challenge.name{k}", "TXT", 3600, cleanup ? [] : [$"\"challenge-{k}-{Guid.NewGuid():N}\""]))
                .ToList();
            if (settings.Mode == AcmeMode.Bulk)
            {
                await using var writer = new DnsBulkWriter(dns);
                var batch = writer.BeginBatch();
                foreach (var write in writes)
                {
                    // lego presents one challenge after another, awaiting each: inside the batch each is only queued.
                    await writer.WriteAsync(settings.Domain, write, cancellationToken).ConfigureAwait(false);
                    progress?.Invoke(++done, total);
                }

                await batch.CommitAsync().ConfigureAwait(false);
            }
            else
            {
                foreach (var write in writes)
                {
                    await dns.WriteRRsetAsync(settings.Domain, write, cancellationToken).ConfigureAwait(false);
                    progress?.Invoke(++done, total);
                }
            }
        }

        var wall = _time.GetElapsedTime(started);
        var minimum = TheoreticalMinimum.Of(counter.UsefulRoundTrips, settings.Rates);
        return new AcmeReport(
            settings.Mode.ToString().ToLowerInvariant(),
            settings.Names,
            counter.Requests,
            counter.Throttled,
            wall.TotalSeconds,
            minimum.TotalSeconds,
            counter.FastestRoundTrip.TotalSeconds);
    }
}
