using System.Globalization;
using System.Threading.RateLimiting;

namespace Sluice.Client;

/// <summary>Options of <see cref="SluiceClientHandler"/>. Every default below is the one a new instance has.</summary>
public sealed class SluiceClientOptions
{
    /// <summary>Set on a request (<c>request.Options.Set(SluiceClientOptions.DeadlineKey, at)</c>) to fail fast when a wait would pass it.</summary>
    public static readonly HttpRequestOptionsKey<DateTimeOffset> DeadlineKey = new("Sluice.Deadline");

    /// <summary>Whether requests are paced before sending. The default value is true. Off, the handler only retries.</summary>
    public bool Pacing { get; set; } = true;

    /// <summary>Rates every read scope (GET, HEAD, OPTIONS) keeps to, besides those learned. The default value is none.</summary>
    public IList<ClientRate> ReadRates { get; } = [];

    /// <summary>Rates every write scope keeps to, besides those learned (deSEC's: <c>2/s, 15/min, 100/h, 300/day</c>). The default value is none.</summary>
    public IList<ClientRate> WriteRates { get; } = [];

    /// <summary>Whether rates and pauses are learned from responses (IETF <c>RateLimit-Policy</c>/<c>RateLimit</c>, <c>X-RateLimit-*</c>). The default value is true.</summary>
    public bool LearnFromHeaders { get; set; } = true;

    /// <summary>
    /// The path segment after which the next segment joins the scope, so each value paces apart (<c>domains</c>:
    /// <c>/api/v1/domains/example.com/rrsets/</c> is paced per domain). The default value is <c>domains</c>; null turns it off.
    /// </summary>
    public string? ScopeSegmentAfter { get; set; } = "domains";

    /// <summary>Replaces the scope of a request entirely when set. The default is host, read or write, and <see cref="ScopeSegmentAfter"/>'s segment.</summary>
    public Func<HttpRequestMessage, string>? ScopeSelector { get; set; }

    /// <summary>Fraction of each period added to it when pacing, for servers that count a request a little longer and for jitter. The default value is 0.02.</summary>
    public double SafetyMargin { get; set; } = 0.02;

    /// <summary>The least padding added to any period. The default value is 25 milliseconds.</summary>
    public TimeSpan MinimumMargin { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Attempts per request, the first included. The default value is 6 (the seed's recipe).</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The first backoff; it doubles after each retry. The default value is 1 second.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Backoff growth per retry. The default value is 2.</summary>
    public double BackoffMultiplier { get; set; } = 2;

    /// <summary>Each wait is multiplied by 1 + U[0, this): jitter only ever lengthens it. The default value is 0.5.</summary>
    public double MaxJitter { get; set; } = 0.5;

    /// <summary>Whether 500/502/503/504 answers to POST and PATCH are retried too. The default value is false (only idempotent methods).</summary>
    public bool RetryNonIdempotentOn5xx { get; set; }

    /// <summary>The longest the handler will wait (pacing or retry) before failing fast with <see cref="SluiceRateLimitedException"/>. The default value is 10 minutes.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long one attempt (one request sent and its response headers read) may take before it is abandoned. An
    /// idempotent request (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) is then sent again, as after a connection failure,
    /// within <see cref="MaxAttempts"/>, the retry budget and the deadline; otherwise, and after the last attempt, the
    /// request fails with a <see cref="TaskCanceledException"/> whose inner exception is a <see cref="TimeoutException"/>,
    /// as <see cref="HttpClient.Timeout"/> reports it. The waits between attempts are bounded by <see cref="MaxWait"/>
    /// instead. <see cref="Timeout.InfiniteTimeSpan"/> turns it off. The default value is 100 seconds, HttpClient's own
    /// default, which <c>AddSluiceClient</c> lifts from the whole request so that pacing and retry waits are not cut short.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>The retry budget. The default value is a new <see cref="Client.RetryBudget"/> (a fifth of traffic, 10 in reserve).</summary>
    public RetryBudget RetryBudget { get; set; } = new();

    /// <summary>Where pacers live. The default value is <see cref="PacerRegistry.Shared"/>, shared by the whole process.</summary>
    public PacerRegistry Registry { get; set; } = PacerRegistry.Shared;

    /// <summary>
    /// Adaptive pacing for servers that publish no limits (AWS-style CUBIC: on a 429 the send rate drops to β = 0.7 of
    /// the measured rate, then grows as C·(t − K)³ + W_max with C = 0.4). The default value is false.
    /// </summary>
    public bool Adaptive { get; set; }

    /// <summary>
    /// A limiter every attempt must also pass before it is sent: one budget for all the processes that call an API, where
    /// local pacing keeps only each process to the rates (a <c>SluicePartitionedRateLimiter&lt;HttpRequestMessage&gt;</c>
    /// over a Redis store, keyed like the server's limits, e.g. per domain). The handler asks it with
    /// <see cref="PartitionedRateLimiter{TResource}.AcquireAsync"/> after local pacing and holds the lease until the
    /// response arrives, so a concurrency limit counts requests in flight. A refusal waits for the lease's
    /// <see cref="MetadataName.RetryAfter"/> (else the backoff, growing) and asks again, within <see cref="MaxWait"/> and the
    /// request's deadline; after <see cref="MaxAttempts"/> refusals in a row it fails with
    /// <see cref="SluiceRateLimitedException"/>. The default value is <see langword="null"/>: local pacing only.
    /// </summary>
    public PartitionedRateLimiter<HttpRequestMessage>? SharedLimiter { get; set; }

    /// <summary>The clock. The default value is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Uniform [0, 1) numbers for jitter. The default value is <see cref="Random.Shared"/>.</summary>
    public Func<double> Random { get; set; } = System.Random.Shared.NextDouble;

    /// <summary>Every problem with these options.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxAttempts < 1)
        {
            problems.Add($"MaxAttempts is {MaxAttempts}; it must be at least 1.");
        }

        if (InitialDelay < TimeSpan.Zero || MaxWait < TimeSpan.Zero || MinimumMargin < TimeSpan.Zero)
        {
            problems.Add("InitialDelay, MaxWait and MinimumMargin must not be negative.");
        }

        if (AttemptTimeout != Timeout.InfiniteTimeSpan && (AttemptTimeout <= TimeSpan.Zero || AttemptTimeout > TimerLimits.LongestWait))
        {
            problems.Add($"AttemptTimeout is {AttemptTimeout.ToString("c", CultureInfo.InvariantCulture)}; it must be positive and at most 49 days, or Timeout.InfiniteTimeSpan.");
        }

        if (MaxWait > TimerLimits.LongestWait)
        {
            problems.Add($"MaxWait is {MaxWait.ToString("c", CultureInfo.InvariantCulture)}; it must be at most 49 days, the longest a timer waits.");
        }

        // Bounded so that no wait they scale can overflow a TimeSpan.
        Between(nameof(BackoffMultiplier), BackoffMultiplier, 1, 100, problems);
        Between(nameof(MaxJitter), MaxJitter, 0, 10, problems);
        Between(nameof(SafetyMargin), SafetyMargin, 0, 1, problems);
        foreach (var (name, rates) in new[] { (nameof(ReadRates), ReadRates), (nameof(WriteRates), WriteRates) })
        {
            foreach (var rate in rates)
            {
                if (rate.Limit < 1)
                {
                    problems.Add($"{name}: {rate} has a limit below 1.");
                }

                if (rate.Period <= TimeSpan.Zero || rate.Period > ClientRate.MaxPeriod)
                {
                    problems.Add($"{name}: {rate} has a period {(rate.Period <= TimeSpan.Zero ? "that is not positive" : "over 100 years")}.");
                }
            }
        }

        return problems;
    }

    private static void Between(string name, double value, double low, double high, List<string> problems)
    {
        if (!(value >= low && value <= high))
        {
            problems.Add($"{name} is {value.ToString(CultureInfo.InvariantCulture)}; it must be between {low.ToString(CultureInfo.InvariantCulture)} and {high.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    internal TimeSpan Margin(TimeSpan period)
    {
        var fraction = TimeSpan.FromTicks((long)(period.Ticks * SafetyMargin));
        return fraction > MinimumMargin ? fraction : MinimumMargin;
    }
}
