using System.Net;
using System.Threading.RateLimiting;

namespace Sluice.Client;

/// <summary>
/// A <see cref="DelegatingHandler"/> that keeps a client under the server's limits: it paces each request in its scope
/// (configured and learned rates, and a pause after a 429 shared by every caller), and retries 429 and 500/502/503/504
/// with exponential backoff and positive jitter, never sooner than the server asked. A wait that would pass the
/// request's deadline (<see cref="SluiceClientOptions.DeadlineKey"/>) or <see cref="SluiceClientOptions.MaxWait"/> fails
/// fast with <see cref="SluiceRateLimitedException"/>. With <see cref="SluiceClientOptions.SharedLimiter"/>, every attempt
/// also waits for that limiter, which processes calling the same API share. A request that fails fast reserves no send
/// time in its scope, and one cancelled while it waits, or refused by the shared limiter, gives its send time back, so
/// callers that give up never hold back the ones after them.
/// </summary>
/// <remarks>
/// A transient connection failure (<see cref="HttpRequestException"/> from the inner handler: refused, reset, or a response
/// cut short) or an attempt abandoned after <see cref="SluiceClientOptions.AttemptTimeout"/> of an idempotent request is
/// retried with the same backoff, within the attempts, the retry budget and the deadline; a POST or PATCH is never sent
/// again after one, since the server may have applied it.
/// Retry order: wait = max(backoff, server wait) × (1 + U[0, MaxJitter)), backoff starting at
/// <see cref="SluiceClientOptions.InitialDelay"/> and doubling; the server wait is <c>Retry-After</c>, else the IETF
/// <c>RateLimit</c> <c>t</c>, else <c>X-RateLimit-Reset</c>/<c>RateLimit-Reset</c>. After the last attempt, or when the
/// retry budget is spent, the last response is returned as it is.
/// </remarks>
public sealed class SluiceClientHandler : DelegatingHandler
{
    private readonly SluiceClientOptions _options;

    /// <summary>Creates the handler; <paramref name="options"/> are checked now.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public SluiceClientHandler(SluiceClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("SluiceClientOptions are invalid: " + string.Join(" ", problems), nameof(options));
        }

        _options = options;
    }

    /// <summary>Creates the handler in front of <paramref name="inner"/>.</summary>
    public SluiceClientHandler(SluiceClientOptions options, HttpMessageHandler inner)
        : this(options) => InnerHandler = inner;

    /// <summary>The pacing scope of <paramref name="request"/>: <c>scheme://host:port|read|segment</c> unless a selector says otherwise.</summary>
    public string ScopeOf(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_options.ScopeSelector is { } selector)
        {
            return selector(request);
        }

        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var scope = $"{uri.Scheme}://{uri.Authority}|{(IsSafe(request.Method) ? "read" : "write")}";
        if (_options.ScopeSegmentAfter is { } after)
        {
            var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var index = Array.FindIndex(segments, s => string.Equals(s, after, StringComparison.OrdinalIgnoreCase));
            if (index >= 0 && index + 1 < segments.Length)
            {
                scope += "|" + segments[index + 1].ToLowerInvariant();
            }
        }

        return scope;
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var time = _options.TimeProvider;
        var scope = ScopeOf(request);
        var safe = IsSafe(request.Method);
        var pacer = _options.Pacing || _options.Adaptive
            ? _options.Registry.GetOrAdd(scope, [.. safe ? _options.ReadRates : _options.WriteRates], _options.Margin, time.GetUtcNow())
            : null;
        var deadline = request.Options.TryGetValue(SluiceClientOptions.DeadlineKey, out var at) ? at : (DateTimeOffset?)null;
        if (request.Content is not null)
        {
            // The content is sent again on a retry: make sure it can be.
            await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        }

        _options.RetryBudget.Deposit();
        var backoff = _options.InitialDelay;
        for (var attempt = 1; ; attempt++)
        {
            var reserved = pacer is null ? default : await PaceAsync(pacer, deadline, cancellationToken).ConfigureAwait(false);
            RateLimitLease? shared;
            try
            {
                shared = await AcquireSharedAsync(request, deadline, scope, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (pacer is not null)
            {
                // Not sent: the send time it waited for is not counted against the scope.
                GiveBack(pacer, reserved);
                throw;
            }

            HttpResponseMessage response;
            var retryIn = TimeSpan.Zero;
            try
            {
                using (shared)
                {
                    response = await SendAttemptAsync(request, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) && RetriesFailure(request.Method, attempt, backoff, deadline, out retryIn))
            {
                // The connection failed (refused, reset, closed early) or the attempt timed out: an idempotent request
                // is sent again after the backoff. Its send time stays counted, since the server may have seen it.
                // Past the attempts, the budget or the deadline, the failure propagates as it is.
                await Task.Delay(retryIn, time, cancellationToken).ConfigureAwait(false);
                backoff *= _options.BackoffMultiplier;
                continue;
            }

            var now = time.GetUtcNow();
            var limits = RateLimitHeaderParser.Parse(response, now);
            if (pacer is not null && _options.LearnFromHeaders)
            {
                pacer.Learn(limits.Policies);
                pacer.LearnWindow(limits.Window);
                if (limits.ExhaustedFor is { } exhausted && exhausted > TimeSpan.Zero)
                {
                    pacer.PauseUntil(now + exhausted);
                }
            }

            var throttled = response.StatusCode == HttpStatusCode.TooManyRequests;
            if (pacer is not null && _options.Adaptive)
            {
                if (throttled)
                {
                    pacer.Adaptive.OnThrottle(now);
                }
                else
                {
                    pacer.Adaptive.OnSuccess(now);
                }
            }

            if (throttled && pacer is not null)
            {
                // Every caller in this scope waits now, not only the one that was told.
                pacer.PauseUntil(now + (limits.Wait ?? backoff));
            }

            if (!IsRetryable(response.StatusCode, request.Method) || attempt >= _options.MaxAttempts)
            {
                return response;
            }

            // The deadline is checked before a retry is taken from the budget, as for a connection failure: a request
            // that fails fast makes no retry and spends none. With the budget spent, the answer is returned as it is.
            var delay = Jittered(Max(backoff, limits.Wait ?? TimeSpan.Zero));
            var withinDeadline = TryCheckDeadline(delay, deadline, out var limit);
            if (withinDeadline ? !_options.RetryBudget.TryWithdraw() : _options.RetryBudget.Available < 1)
            {
                return response;
            }

            if (!withinDeadline)
            {
                var status = response.StatusCode;
                response.Dispose();
                throw new SluiceRateLimitedException(
                    $"The server answered {(int)status} and asks to wait {delay.TotalSeconds:0.###} s, longer than the {limit.TotalSeconds:0.###} s left before the deadline.",
                    delay,
                    status,
                    scope);
            }

            response.Dispose();
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            backoff *= _options.BackoffMultiplier;
        }
    }

    /// <summary>One attempt, abandoned after <see cref="SluiceClientOptions.AttemptTimeout"/> as <see cref="HttpClient.Timeout"/> would abandon it.</summary>
    private async Task<HttpResponseMessage> SendAttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var limit = _options.AttemptTimeout;
        if (limit == Timeout.InfiniteTimeSpan)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        using var timeout = new CancellationTokenSource(limit, _options.TimeProvider);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await base.SendAsync(request, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var message = $"The request was canceled: one attempt took longer than the AttemptTimeout of {limit.TotalSeconds:0.###} seconds.";
            throw new TaskCanceledException(message, new TimeoutException(message, e), timeout.Token);
        }
    }

    /// <summary>
    /// Waits until <see cref="SluiceClientOptions.SharedLimiter"/> lets <paramref name="request"/> go, and returns its
    /// lease (null without a shared limiter), to be held while the request is in flight.
    /// </summary>
    private async ValueTask<RateLimitLease?> AcquireSharedAsync(HttpRequestMessage request, DateTimeOffset? deadline, string scope, CancellationToken cancellationToken)
    {
        if (_options.SharedLimiter is not { } shared)
        {
            return null;
        }

        var backoff = _options.InitialDelay;
        for (var refusals = 1; ; refusals++)
        {
            var lease = await shared.AcquireAsync(request, 1, cancellationToken).ConfigureAwait(false);
            if (lease.IsAcquired)
            {
                return lease;
            }

            var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : Jittered(backoff);
            var reason = lease.TryGetMetadata(MetadataName.ReasonPhrase, out var phrase) ? phrase : null;
            lease.Dispose();
            if (refusals >= _options.MaxAttempts)
            {
                throw new SluiceRateLimitedException(
                    $"The shared limiter refused the request {refusals} times in a row ({reason ?? "no reason given"}).",
                    wait,
                    null,
                    scope);
            }

            if (!TryCheckDeadline(wait, deadline, out var limit))
            {
                throw new SluiceRateLimitedException(
                    $"The shared limiter lets scope '{scope}' send in {wait.TotalSeconds:0.###} s, longer than the {limit.TotalSeconds:0.###} s left before the deadline ({reason ?? "no reason given"}).",
                    wait,
                    null,
                    scope);
            }

            await Task.Delay(wait, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            backoff *= _options.BackoffMultiplier;
        }
    }

    /// <summary>
    /// Waits for <paramref name="pacer"/>'s next send time (and the adaptive controller's token when on). A wait past the
    /// deadline fails fast and reserves nothing; a caller cancelled while waiting gives its send time and token back,
    /// so that neither holds back a later caller.
    /// </summary>
    private async Task<(DateTimeOffset Asked, DateTimeOffset SendAt)> PaceAsync(ScopePacer pacer, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        var time = _options.TimeProvider;
        var now = time.GetUtcNow();
        var limit = Limit(deadline, now);
        if (!pacer.TryReserve(now, limit, out var wait))
        {
            throw PastDeadline(pacer.Scope, wait, limit);
        }

        // The pacer's own send time: what a give-back names, even when the adaptive token makes the caller wait longer.
        var reserved = (Asked: now, SendAt: now + wait);
        if (_options.Adaptive)
        {
            if (!pacer.Adaptive.TryAcquire(now, limit, out var adaptive))
            {
                pacer.Release(reserved.SendAt);
                throw PastDeadline(pacer.Scope, adaptive, limit);
            }

            wait = adaptive > wait ? adaptive : wait;
        }

        if (wait <= TimeSpan.Zero)
        {
            return reserved;
        }

        try
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            GiveBack(pacer, reserved);
            throw;
        }

        return reserved;
    }

    /// <summary>Gives back the send time (and adaptive token) reserved for a request that will not be sent.</summary>
    private void GiveBack(ScopePacer pacer, (DateTimeOffset Asked, DateTimeOffset SendAt) reserved)
    {
        pacer.Release(reserved.SendAt);
        if (_options.Adaptive)
        {
            pacer.Adaptive.Return(reserved.Asked);
        }
    }

    private static SluiceRateLimitedException PastDeadline(string scope, TimeSpan wait, TimeSpan limit) => new(
        $"Pacing scope '{scope}' can send in {wait.TotalSeconds:0.###} s, longer than the {limit.TotalSeconds:0.###} s left before the deadline.",
        wait,
        null,
        scope);

    /// <summary>The longest a caller waits from <paramref name="now"/>: <see cref="SluiceClientOptions.MaxWait"/>, or less before a deadline.</summary>
    private TimeSpan Limit(DateTimeOffset? deadline, DateTimeOffset now)
        => deadline is { } at && at - now < _options.MaxWait ? at - now : _options.MaxWait;

    private bool TryCheckDeadline(TimeSpan wait, DateTimeOffset? deadline, out TimeSpan limit)
    {
        limit = Limit(deadline, _options.TimeProvider.GetUtcNow());
        return wait <= limit;
    }

    /// <summary>
    /// Whether a connection failure of the attempt is retried (an idempotent method, attempts and budget left, the
    /// jittered backoff <paramref name="delay"/> within the deadline); takes one retry from the budget when it is.
    /// </summary>
    private bool RetriesFailure(HttpMethod method, int attempt, TimeSpan backoff, DateTimeOffset? deadline, out TimeSpan delay)
    {
        delay = Jittered(backoff);
        return IsIdempotent(method) && attempt < _options.MaxAttempts && TryCheckDeadline(delay, deadline, out _) && _options.RetryBudget.TryWithdraw();
    }

    /// <summary>
    /// A failure that a later attempt may not meet: the connection refused or reset, the response cut short, an HTTP/2
    /// or HTTP/3 stream reset. Name resolution, TLS, proxy and invalid responses fail again the same way and are not retried.
    /// </summary>
    private static bool IsTransient(HttpRequestException e)
        => e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded or HttpRequestError.HttpProtocolError;

    /// <summary>A transient connection failure, or an attempt abandoned after <see cref="SluiceClientOptions.AttemptTimeout"/> (not the caller's own cancellation).</summary>
    private static bool IsTransient(Exception e, CancellationToken callerToken) => e switch
    {
        HttpRequestException failure => IsTransient(failure),
        TaskCanceledException { InnerException: TimeoutException } => !callerToken.IsCancellationRequested,
        _ => false,
    };

    private bool IsRetryable(HttpStatusCode status, HttpMethod method) => status switch
    {
        HttpStatusCode.TooManyRequests => true,
        HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout
            => IsIdempotent(method) || _options.RetryNonIdempotentOn5xx,
        _ => false,
    };

    private static bool IsSafe(HttpMethod method) => method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options;

    private static bool IsIdempotent(HttpMethod method) => IsSafe(method) || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Trace;

    /// <summary>A wait with positive jitter: × (1 + U[0, MaxJitter)).</summary>
    private TimeSpan Jittered(TimeSpan wait) => wait * (1 + (_options.Random() * _options.MaxJitter));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
