using System.Buffers;
using System.Globalization;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Sluice.AspNetCore.Diagnostics;
using Sluice.AspNetCore.Rejection;

namespace Sluice.AspNetCore.Middleware;

/// <summary>
/// Decides each request against every layer that applies (global layers, then the endpoint's own), writes the
/// rate-limit headers, and either calls the next middleware or answers the denial. Concurrency permits are returned
/// when the rest of the pipeline finishes, even if it throws. A store failure lets the request through.
/// </summary>
internal sealed class SluiceMiddleware
{
    private const string LimitHeader = "X-RateLimit-Limit";
    private const string RemainingHeader = "X-RateLimit-Remaining";
    private const string ResetHeader = "X-RateLimit-Reset";

    /// <summary>Endpoints with at most this many layers take the synchronous path with the in-memory store.</summary>
    private const int InlineLayers = 8;

    /// <summary>This thread's buffers for the synchronous path, in one object so that one thread-static read finds both.</summary>
    [ThreadStatic]
    private static InlineBuffers? t_buffers;

    private readonly RequestDelegate _next;
    private readonly SluiceRuntime _runtime;

    /// <summary>Set once routing was seen running after this middleware (logged once, then no longer watched).</summary>
    private volatile bool _routingAfterSluiceReported;

    /// <summary>Set once authentication was seen running after this middleware (logged once, then no longer watched).</summary>
    private volatile bool _authenticationAfterSluiceReported;

    public SluiceMiddleware(RequestDelegate next, SluiceRuntime runtime, EndpointDataSource? endpoints = null)
    {
        _next = next;
        _runtime = runtime;

        // Built when the pipeline is built, after every endpoint is mapped: a bad configuration stops startup here.
        runtime.Start(endpoints);
    }

    public Task InvokeAsync(HttpContext context)
    {
        var plan = _runtime.Plan;
        if (!plan.Enabled)
        {
            return _next(context);
        }

        var routed = context.GetEndpoint();
        var endpoint = plan.For(routed);

        // Read before the rest of the pipeline runs, which may complete before the call below returns.
        var userLayer = endpoint.KeyedOnUser is { } keyedOnUser && !_authenticationAfterSluiceReported && context.User.Identity?.IsAuthenticated != true
            ? keyedOnUser
            : null;
        var decided = endpoint.Disabled || endpoint.Layers.Length == 0
            ? _next(context)
            : _runtime.Store is MemoryRateLimitStore memory && !endpoint.HoldsPermits && endpoint.Layers.Length <= InlineLayers
                ? DecideInline(context, plan, endpoint, memory)
                : DecideAsync(context, plan, endpoint);

        // No endpoint yet: an unmatched request, or routing placed after this middleware, which only shows afterwards.
        if (routed is null && !_routingAfterSluiceReported)
        {
            return WatchForRoutingAfterSluice(context, decided);
        }

        // A layer keyed on the user found none: an anonymous request, or authentication placed after this middleware.
        return userLayer is null ? decided : WatchForAuthenticationAfterSluice(context, decided, userLayer);
    }

    /// <summary>
    /// Logs once (event 10) when a request that reached this middleware unauthenticated, on an endpoint with a layer
    /// keyed on the user or a claim, comes back authenticated: authentication ran after Sluice, so that layer found no
    /// key and did not apply. Only anonymous requests to such endpoints pay, until it is logged.
    /// </summary>
    private async Task WatchForAuthenticationAfterSluice(HttpContext context, Task decided, CompiledLayer layer)
    {
        await decided.ConfigureAwait(false);
        if (context.User.Identity?.IsAuthenticated == true && !_authenticationAfterSluiceReported)
        {
            _authenticationAfterSluiceReported = true;
            SluiceLog.AuthenticationAfterSluice(_runtime.Logger, layer.Layer.Name, context.Request.Method, context.Request.Path);
        }
    }

    /// <summary>
    /// Logs once (event 6) when a request that reached this middleware without an endpoint comes back with one: routing
    /// ran after Sluice, so endpoint layers and <c>DisableRateLimit</c> were never seen. Only such requests pay.
    /// </summary>
    private async Task WatchForRoutingAfterSluice(HttpContext context, Task decided)
    {
        await decided.ConfigureAwait(false);
        if (context.GetEndpoint() is not null && !_routingAfterSluiceReported)
        {
            _routingAfterSluiceReported = true;
            SluiceLog.RoutingAfterSluice(_runtime.Logger, context.Request.Method, context.Request.Path);
        }
    }

    /// <summary>
    /// The in-memory store without concurrency layers: the decision is synchronous and nothing outlives the call to the
    /// next middleware, so keys and statuses live on the stack and no state machine is needed unless the request is denied.
    /// </summary>
    private Task DecideInline(HttpContext context, SluicePlan plan, EndpointPlan endpoint, MemoryRateLimitStore store)
    {
        // Per-thread buffers: they are used only until this method returns (a denial copies them before awaiting),
        // and a large stack buffer next to references would be zeroed by the JIT on every call.
        var buffers = t_buffers ??= new InlineBuffers();
        var layers = buffers.Layers;
        var statuses = buffers.Statuses;
        var count = SelectKeys(context, endpoint, layers);
        if (count == 0)
        {
            return _next(context);
        }

        try
        {
            return DecideInline(context, plan, endpoint, store, layers.AsSpan(0, count), statuses);
        }
        finally
        {
            // Do not keep the request's key strings alive on the thread.
            layers.AsSpan(0, count).Clear();
        }
    }

    private Task DecideInline(HttpContext context, SluicePlan plan, EndpointPlan endpoint, MemoryRateLimitStore store, Span<LayerKey> layers, Span<RateStatus> statuses)
    {
        var count = layers.Length;

        // The application's own code: an exception it throws is the application's, not a store failure.
        var cost = CostOf(context, plan, endpoint);
        RateLimitDecision decision;
        try
        {
            var started = _runtime.Metrics.StoreDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
            decision = store.Acquire(layers[..count], statuses, cost);
            if (started != 0)
            {
                _runtime.Metrics.StoreDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _runtime.Metrics.StoreFailures.Add(1);
            SluiceLog.StoreFailed(_runtime.Logger, e);
            return _next(context);
        }

        var reported = statuses[..decision.StatusCount];
        Report(context, endpoint, layers[..count], reported);
        WriteHeaders(context, plan, decision, layers[..count], reported, _runtime.Time);
        return decision.IsAllowed
            ? _next(context)
            : RejectAsync(context, plan, endpoint, decision, layers[..count].ToArray(), reported.ToArray());
    }

    /// <summary>
    /// The request's cost: the endpoint's delegate, else the options' delegate, else 1. What a delegate throws
    /// propagates like any exception of the application; a negative cost is the application's error too.
    /// </summary>
    private static long CostOf(HttpContext context, SluicePlan plan, EndpointPlan endpoint)
    {
        var cost = endpoint.Cost?.Invoke(context) ?? plan.Options.Cost?.Invoke(context) ?? 1;
        return cost >= 0
            ? cost
            : throw new InvalidOperationException($"The rate-limit cost of {context.Request.Method} {context.Request.Path} was {cost}; a cost must not be negative.");
    }

    /// <summary>Fills <paramref name="layers"/> with the layers that apply and their keys; returns how many.</summary>
    internal static int SelectKeys(HttpContext context, EndpointPlan endpoint, Span<LayerKey> layers)
    {
        // Layers for every method apply whatever this says: read the method only when some layer rates reads or writes.
        var safe = endpoint.MethodMatters && IsSafe(context.Request.Method);
        var count = 0;
        var compiled = endpoint.Layers;
        for (var i = 0; i < compiled.Length; i++)
        {
            var layer = compiled[i];
            if (!layer.AppliesTo(safe))
            {
                continue;
            }

            // Layers often share a selector (the client IP of global-ip and auth, with the API key between them): read
            // it once per request, so that they also share one key string, which the store then hashes once.
            var key = EarlierKey(compiled, i, safe, layers[..count], out var known) ?? (known ? null : Stored(layer.Selector.Select(context)));
            if (key is not null)
            {
                layers[count++] = new LayerKey(layer.Layer, key);
            }
        }

        return count;
    }

    /// <summary>
    /// The key an earlier applicable layer with the same selector got in this request (<paramref name="known"/> true,
    /// the key null if that layer's key was absent); <paramref name="known"/> false when no earlier layer shares it.
    /// </summary>
    private static string? EarlierKey(CompiledLayer[] compiled, int index, bool safe, ReadOnlySpan<LayerKey> selected, out bool known)
    {
        var selector = compiled[index].Selector;
        for (var j = 0; j < index; j++)
        {
            if (!ReferenceEquals(compiled[j].Selector, selector) || !compiled[j].AppliesTo(safe))
            {
                continue;
            }

            known = true;
            foreach (var entry in selected)
            {
                if (ReferenceEquals(entry.Layer, compiled[j].Layer))
                {
                    return entry.Key;
                }
            }

            return null;
        }

        known = false;
        return null;
    }

    /// <summary>The key as the store keeps it (<see cref="StoredKey"/>).</summary>
    private static string? Stored(string? key) => key is null ? null : StoredKey.Of(key);

    private static bool IsSafe(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    private async Task DecideAsync(HttpContext context, SluicePlan plan, EndpointPlan endpoint)
    {
        var layers = ArrayPool<LayerKey>.Shared.Rent(endpoint.Layers.Length);
        var count = SelectKeys(context, endpoint, layers);

        if (count == 0)
        {
            ArrayPool<LayerKey>.Shared.Return(layers, clearArray: true);
            await _next(context).ConfigureAwait(false);
            return;
        }

        var statuses = ArrayPool<RateStatus>.Shared.Rent(RateLimitStore.GetStatusCapacity(count));
        var store = _runtime.Store;
        var leaseId = 0L;
        try
        {
            var cost = CostOf(context, plan, endpoint);
            RateLimitDecision decision;
            var timed = _runtime.Metrics.StoreDuration.Enabled;
            var started = timed ? Stopwatch.GetTimestamp() : 0;
            try
            {
                // The in-memory store answers synchronously: skip the feature lookup behind RequestAborted.
                var token = store is MemoryRateLimitStore ? CancellationToken.None : context.RequestAborted;
                var pending = store.AcquireAsync(layers.AsMemory(0, count), statuses, cost, token);
                decision = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
            }
            catch (RateLimitStoreUnavailableException e)
            {
                // The store fails closed: refuse with 503, never a 500.
                _runtime.Metrics.StoreFailures.Add(1);
                var wait = Math.Max(1, (long)Math.Ceiling(e.RetryAfter.TotalSeconds));
                SluiceLog.StoreRefused(_runtime.Logger, wait, e);
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers[HeaderNames.RetryAfter] = HeaderText.Of(wait);
                SluiceTrace.StoreUnavailable(context, wait);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
            {
                _runtime.Metrics.StoreFailures.Add(1);
                SluiceLog.StoreFailed(_runtime.Logger, e);
                await _next(context).ConfigureAwait(false);
                return;
            }

            if (timed)
            {
                _runtime.Metrics.StoreDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }

            var reported = statuses.AsSpan(0, decision.StatusCount);
            Report(context, endpoint, layers.AsSpan(0, count), reported);
            WriteHeaders(context, plan, decision, layers.AsSpan(0, count), reported, _runtime.Time);
            if (!decision.IsAllowed)
            {
                await RejectAsync(context, plan, endpoint, decision, layers[..count], statuses[..decision.StatusCount]).ConfigureAwait(false);
                return;
            }

            leaseId = decision.LeaseId;
            await _next(context).ConfigureAwait(false);
        }
        finally
        {
            if (leaseId != 0)
            {
                await store.ReleaseAsync(layers.AsMemory(0, count), leaseId, CancellationToken.None).ConfigureAwait(false);
            }

            ArrayPool<RateStatus>.Shared.Return(statuses);
            ArrayPool<LayerKey>.Shared.Return(layers, clearArray: true);
        }
    }

    private void Report(HttpContext context, EndpointPlan endpoint, ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses)
    {
        var decisions = _runtime.Metrics.Decisions;
        if (!decisions.Enabled && !AnyShadowDenial(statuses))
        {
            // Nobody listens to the counter and nothing is to be logged.
            return;
        }

        var previousLayer = -1;
        var previousOutcome = RateOutcome.Allowed;
        for (var s = 0; s <= statuses.Length; s++)
        {
            // One count per layer: its worst outcome across its rates.
            if (s == statuses.Length || statuses[s].LayerIndex != previousLayer)
            {
                if (previousLayer >= 0 && decisions.Enabled)
                {
                    decisions.Add(1, new KeyValuePair<string, object?>("layer", layers[previousLayer].Layer.Name), new KeyValuePair<string, object?>("outcome", OutcomeName(previousOutcome)));
                }

                if (s == statuses.Length)
                {
                    break;
                }

                previousLayer = statuses[s].LayerIndex;
                previousOutcome = RateOutcome.Allowed;
            }

            if (statuses[s].Outcome != RateOutcome.Allowed)
            {
                previousOutcome = statuses[s].Outcome;
                if (statuses[s].Outcome == RateOutcome.ShadowDenied)
                {
                    var layer = layers[statuses[s].LayerIndex];
                    SluiceTrace.ShadowDenied(context, layer.Layer.Name);
                    if (_runtime.Logger.IsEnabled(LogLevel.Information))
                    {
                        SluiceLog.ShadowDenied(_runtime.Logger, layer.Layer.Name, context.Request.Method, context.Request.Path, KeyForLog(endpoint, layer), statuses[s].Rate);
                    }
                }
            }
        }
    }

    /// <summary>The key as logs may show it: as it is, or a fingerprint when its selector may read a credential.</summary>
    private static string KeyForLog(EndpointPlan endpoint, LayerKey layer)
    {
        foreach (var compiled in endpoint.Layers)
        {
            if (ReferenceEquals(compiled.Layer, layer.Layer))
            {
                return compiled.Selector.KeyIsSecret ? KeyFingerprint.Of(layer.Key) : layer.Key;
            }
        }

        return KeyFingerprint.Of(layer.Key);
    }

    private static bool AnyShadowDenial(ReadOnlySpan<RateStatus> statuses)
    {
        foreach (ref readonly var status in statuses)
        {
            if (status.Outcome == RateOutcome.ShadowDenied)
            {
                return true;
            }
        }

        return false;
    }

    private static string OutcomeName(RateOutcome outcome) => outcome switch
    {
        RateOutcome.Denied => "denied",
        RateOutcome.ShadowDenied => "shadow_denied",
        _ => "allowed",
    };

    private static void WriteHeaders(HttpContext context, SluicePlan plan, RateLimitDecision decision, ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses, TimeProvider time)
    {
        var headers = context.Response.Headers;
        if (plan.Headline is { } headline)
        {
            var chosen = -1;
            for (var s = 0; s < statuses.Length; s++)
            {
                if (!ReferenceEquals(layers[statuses[s].LayerIndex].Layer, headline.Layer))
                {
                    continue;
                }

                // The headline rate: the one that denied, else the one with the least room left.
                if (chosen < 0
                    || (statuses[s].Outcome == RateOutcome.Denied && statuses[chosen].Outcome != RateOutcome.Denied)
                    || (statuses[chosen].Outcome != RateOutcome.Denied && statuses[s].Remaining < statuses[chosen].Remaining))
                {
                    chosen = s;
                }
            }

            if (chosen >= 0)
            {
                var status = statuses[chosen];
                var headlineDenied = !decision.IsAllowed && status.Outcome == RateOutcome.Denied;
                headers[LimitHeader] = HeaderText.Limit(status.Limit);
                headers[RemainingHeader] = HeaderText.Of(headlineDenied ? 0 : status.Remaining);
                headers[ResetHeader] = HeaderText.UnixSeconds(Microseconds.CeilingSeconds(status.ResetAtMicros));
            }
        }

        if (plan.Options.IetfHeaders && statuses.Length > 0)
        {
            // Seconds to reset on the store's clock (Redis's, by default, with the Redis store), not this machine's.
            var nowMicros = decision.DecidedAtMicros != 0 ? decision.DecidedAtMicros : Microseconds.Now(time);
            WriteIetfHeaders(headers, layers, statuses, nowMicros);
        }
    }

    /// <summary>draft-ietf-httpapi-ratelimit-headers-10: one policy and one limit item per rate in force.</summary>
    /// <remarks>
    /// The policy field depends only on the layers and rates in force, so each thread keeps the last one it wrote and
    /// reuses it while they stay the same. The limit field is written into this thread's buffer, from item prefixes the
    /// policy cache keeps, and allocated once.
    /// </remarks>
    private static void WriteIetfHeaders(IHeaderDictionary headers, ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses, long nowMicros)
    {
        var buffers = t_buffers ??= new InlineBuffers();
        headers["RateLimit-Policy"] = buffers.Policy.For(layers, statuses);
        if (TryFormatLimitField(buffers.Text, buffers.Policy, layers, statuses, nowMicros, out var length))
        {
            headers["RateLimit"] = new string(buffers.Text, 0, length);
            return;
        }

        // More rates than the thread's buffer holds: rare, so a pooled buffer, doubled until the field fits.
        for (var size = buffers.Text.Length * 2; ; size *= 2)
        {
            var rented = ArrayPool<char>.Shared.Rent(size);
            try
            {
                if (TryFormatLimitField(rented, buffers.Policy, layers, statuses, nowMicros, out length))
                {
                    headers["RateLimit"] = new string(rented, 0, length);
                    return;
                }
            }
            finally
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The <c>RateLimit</c> field: one <c>"name";r=remaining;t=seconds-to-reset</c> item per rate in force.</summary>
    private static bool TryFormatLimitField(Span<char> text, PolicyCache policy, ReadOnlySpan<LayerKey> layers, ReadOnlySpan<RateStatus> statuses, long nowMicros, out int length)
    {
        length = 0;
        for (var s = 0; s < statuses.Length; s++)
        {
            ref readonly var status = ref statuses[s];
            var remaining = status.Outcome == RateOutcome.Denied ? 0 : status.Remaining;
            var resetSeconds = Microseconds.CeilingSeconds(Math.Max(0, status.ResetAtMicros - nowMicros));
            var prefix = policy.LimitPrefixAt(layers, statuses, s);
            if (!prefix.TryCopyTo(text[length..]))
            {
                return false;
            }

            length += prefix.Length;
            if (!remaining.TryFormat(text[length..], out var written, default, CultureInfo.InvariantCulture))
            {
                return false;
            }

            length += written;
            if (!";t=".TryCopyTo(text[length..]))
            {
                return false;
            }

            length += 3;
            if (!resetSeconds.TryFormat(text[length..], out written, default, CultureInfo.InvariantCulture))
            {
                return false;
            }

            length += written;
        }

        return true;
    }

    private async Task RejectAsync(HttpContext context, SluicePlan plan, EndpointPlan endpoint, RateLimitDecision decision, LayerKey[] layers, RateStatus[] statuses)
    {
        int? retryAfter = decision.CostExceedsLimit
            ? null
            : decision.HasRetryAfter
                ? (int)Math.Min(int.MaxValue, Math.Ceiling(decision.RetryAfter.TotalSeconds))
                : plan.Options.UnknownRetryAfterSeconds;
        var response = context.Response;
        response.StatusCode = plan.Options.RejectionStatusCode;
        if (retryAfter is { } seconds)
        {
            response.Headers[HeaderNames.RetryAfter] = HeaderText.Of(seconds);
        }

        var rejected = new RateLimitRejectedContext(context, decision, layers, statuses, retryAfter);
        SluiceLog.Denied(_runtime.Logger, context.Request.Method, context.Request.Path, rejected.DenyingLayer, retryAfter);
        SluiceTrace.Denied(context, rejected.DenyingLayer, retryAfter);
        var onRejected = endpoint.OnRejected ?? plan.Options.OnRejected;
        if (onRejected is not null)
        {
            await onRejected(rejected, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            await ProblemWriter.WriteAsync(rejected, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private sealed class InlineBuffers
    {
        public readonly LayerKey[] Layers = new LayerKey[InlineLayers];

        public readonly RateStatus[] Statuses = new RateStatus[RateLimitStore.GetStatusCapacity(InlineLayers)];

        public readonly PolicyCache Policy = new();

        /// <summary>Where the <c>RateLimit</c> field is written before it becomes a string.</summary>
        public readonly char[] Text = new char[512];
    }
}
