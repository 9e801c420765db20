using Microsoft.AspNetCore.Http;

namespace Sluice.AspNetCore.Middleware;

/// <summary>What applies to one endpoint under one configuration: computed once per endpoint and configuration.</summary>
internal sealed class EndpointPlan(bool disabled, CompiledLayer[] layers, Func<HttpContext, long>? cost, Func<RateLimitRejectedContext, CancellationToken, ValueTask>? onRejected)
{
    public bool Disabled { get; } = disabled;

    /// <summary>Global layers first, in configuration order, then the endpoint's own, in metadata order.</summary>
    public CompiledLayer[] Layers { get; } = layers;

    public Func<HttpContext, long>? Cost { get; } = cost;

    public Func<RateLimitRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = onRejected;

    /// <summary>Whether a layer applies only to safe or only to unsafe methods, so that the request's method must be read.</summary>
    public bool MethodMatters { get; } = layers.Any(l => !l.AnyMethod);

    /// <summary>The first layer keyed on the authenticated user or one of its claims, if any: it needs authentication to run before Sluice.</summary>
    public CompiledLayer? KeyedOnUser { get; } = layers.FirstOrDefault(l => l.Selector is Keys.ClaimKeySelector);

    /// <summary>Whether a layer holds permits until the request ends (concurrency): the decision must outlive the call to the next middleware.</summary>
    public bool HoldsPermits { get; } = layers.Any(l => l.Layer.Algorithm == RateLimitAlgorithm.Concurrency);
}
