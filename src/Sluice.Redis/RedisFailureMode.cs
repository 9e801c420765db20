namespace Sluice.Redis;

/// <summary>What a decision does while Redis is down or slower than <see cref="RedisRateLimitStoreOptions.Timeout"/>.</summary>
public enum RedisFailureMode
{
    /// <summary>Requests pass through a local in-memory store, which keeps enforcing the limits per instance. The default.</summary>
    FailOpen,

    /// <summary>Decisions fail with <see cref="RateLimitStoreUnavailableException"/>; the HTTP integration answers 503 with Retry-After.</summary>
    FailClosed,
}
