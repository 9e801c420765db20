using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore;

/// <summary>What a denial callback knows about the denied request. The status code and headers are already set.</summary>
public sealed class RateLimitRejectedContext
{
    internal RateLimitRejectedContext(HttpContext httpContext, RateLimitDecision decision, LayerKey[] layers, RateStatus[] statuses, int? retryAfterSeconds)
    {
        HttpContext = httpContext;
        Decision = decision;
        Layers = layers;
        Statuses = statuses;
        RetryAfterSeconds = retryAfterSeconds;
        DenyingLayer = decision.DeniedStatusIndex >= 0 ? layers[statuses[decision.DeniedStatusIndex].LayerIndex].Layer.Name : string.Empty;
    }

    /// <summary>The request.</summary>
    public HttpContext HttpContext { get; }

    /// <summary>The decision.</summary>
    public RateLimitDecision Decision { get; }

    /// <summary>The layers evaluated, with the request's key in each.</summary>
    public IReadOnlyList<LayerKey> Layers { get; }

    /// <summary>One status per rate of every layer evaluated.</summary>
    public IReadOnlyList<RateStatus> Statuses { get; }

    /// <summary>The name of the layer whose rate frees last (the one that decided the retry-after).</summary>
    public string DenyingLayer { get; }

    /// <summary>The Retry-After sent, in whole seconds rounded up; <see langword="null"/> when the request can never pass (its cost exceeds a limit).</summary>
    public int? RetryAfterSeconds { get; }

    /// <summary>
    /// The human sentence, in deSEC's words: "Request was throttled. Expected available in 1 second." (plural from 2
    /// seconds on), or why the request can never pass.
    /// </summary>
    public string Detail => RetryAfterSeconds is { } seconds
        ? $"Request was throttled. Expected available in {seconds} second{(seconds == 1 ? string.Empty : "s")}."
        : $"Request was throttled. Its cost exceeds a limit of layer '{DenyingLayer}', so it can never pass.";
}
