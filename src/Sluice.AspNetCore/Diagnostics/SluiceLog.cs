using Microsoft.Extensions.Logging;

namespace Sluice.AspNetCore.Diagnostics;

/// <summary>Sluice's log messages, with stable event ids.</summary>
internal static partial class SluiceLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Shadow layer '{Layer}' would have denied {Method} {Path} (key '{Key}', rate {Rate}).")]
    public static partial void ShadowDenied(ILogger logger, string layer, string method, string path, string key, Rate rate);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Denied {Method} {Path}: layer '{Layer}', retry after {RetryAfterSeconds} s.")]
    public static partial void Denied(ILogger logger, string method, string path, string layer, int? retryAfterSeconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "The new Sluice configuration is invalid and was not applied; the previous one stays in force. {Problems}")]
    public static partial void ReloadRejected(ILogger logger, string problems);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Sluice configuration reloaded: {LayerCount} layers.")]
    public static partial void Reloaded(ILogger logger, int layerCount);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "The rate-limit store failed; the request was let through.")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "The rate-limit store is unavailable and fails closed; the request was refused with 503, retry after {RetryAfterSeconds} s.")]
    public static partial void StoreRefused(ILogger logger, long retryAfterSeconds, Exception exception);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "UseSluice() runs before UseRouting(): the endpoint of {Method} {Path} was chosen after Sluice decided, so endpoint layers, route-pattern layers and DisableRateLimit cannot apply. Call app.UseRouting() before app.UseSluice(). Logged once.")]
    public static partial void RoutingAfterSluice(ILogger logger, string method, string path);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "Layer '{Layer}' keys on the user or a claim, but {Method} {Path} was authenticated after Sluice decided, so the layer found no key and did not apply. Call app.UseAuthentication() before app.UseSluice(). Logged once.")]
    public static partial void AuthenticationAfterSluice(ILogger logger, string layer, string method, string path);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "{Layer} is an endpoint layer that applies to no mapped endpoint (none requires it through RequireRateLimit or [RateLimit] without DisableRateLimit, and no Endpoints pattern matches one): it never applies.")]
    public static partial void UnusedEndpointLayer(ILogger logger, string layer);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "{Setting} changed from '{InUse}' to '{Configured}', but the store is chosen at startup: '{InUse}' stays in use until the application restarts. The rest of the configuration was applied.")]
    public static partial void StoreChangeNeedsRestart(ILogger logger, string setting, string inUse, string configured);
}
