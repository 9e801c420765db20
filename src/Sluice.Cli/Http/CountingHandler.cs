using System.Net;

namespace Sluice.Cli.Http;

/// <summary>
/// Counts what really goes over the wire (below pacing and retries): requests, 429s, and the fastest round trip, timed
/// by <paramref name="time"/> (the system's clock by default).
/// </summary>
internal sealed class CountingHandler(TimeProvider? time = null) : DelegatingHandler
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private int _requests;
    private int _throttled;
    private readonly List<TimeSpan> _roundTrips = [];
    private long _fastestTicks = long.MaxValue;

    public int Requests => Volatile.Read(ref _requests);

    public int Throttled => Volatile.Read(ref _throttled);

    /// <summary>The fastest request-to-response time seen, or zero before any.</summary>
    public TimeSpan FastestRoundTrip => Interlocked.Read(ref _fastestTicks) is var t && t == long.MaxValue ? TimeSpan.Zero : TimeSpan.FromTicks(t);

    /// <summary>The round trip of every answer that was not a 429, in the order they came: the requests the job needed.</summary>
    public IReadOnlyList<TimeSpan> UsefulRoundTrips
    {
        get
        {
            lock (_roundTrips)
            {
                return [.. _roundTrips];
            }
        }
    }

    public void Reset()
    {
        lock (_roundTrips)
        {
            _roundTrips.Clear();
        }

        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _throttled, 0);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var elapsed = _time.GetElapsedTime(started).Ticks;
        Interlocked.Increment(ref _requests);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            Interlocked.Increment(ref _throttled);
        }
        else
        {
            lock (_roundTrips)
            {
                _roundTrips.Add(TimeSpan.FromTicks(elapsed));
            }
        }

        long seen;
        while (elapsed < (seen = Interlocked.Read(ref _fastestTicks)) && Interlocked.CompareExchange(ref _fastestTicks, elapsed, seen) != seen)
        {
        }

        return response;
    }
}
