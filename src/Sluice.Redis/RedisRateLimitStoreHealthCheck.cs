using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sluice.Redis;

/// <summary>
/// Reports the Redis store: healthy while Redis decides; degraded while a fail-open store decides locally; unhealthy
/// while a fail-closed store cannot decide. When Redis does not decide, the description ends with the store's last error
/// (which names the fix for a cluster without a hash tag). Healthy, and without connecting, when the store in use is
/// another one (<c>Sluice:Store</c> is <c>Memory</c>).
/// </summary>
public sealed class RedisRateLimitStoreHealthCheck : IHealthCheck
{
    private readonly Func<RedisRateLimitStore?> _store;

    /// <summary>Checks the store in use, as registered in <paramref name="services"/>.</summary>
    public RedisRateLimitStoreHealthCheck(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _store = () => services.GetService<RateLimitStore>() is { } active
            ? active as RedisRateLimitStore
            : services.GetService<RedisRateLimitStore>();
    }

    /// <summary>Checks the given store.</summary>
    public RedisRateLimitStoreHealthCheck(RedisRateLimitStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = () => store;
    }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_store() is not { } store)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Sluice does not use Redis."));
        }

        if (store.IsUsingRedis)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Redis decides."));
        }

        var cause = store.LastError is { } error ? $" Last error: {error.Message}" : string.Empty;
        return Task.FromResult(store.FailureMode == RedisFailureMode.FailOpen
            ? HealthCheckResult.Degraded("Redis is unavailable; each instance limits locally (fail-open)." + cause, store.LastError)
            : HealthCheckResult.Unhealthy("Redis is unavailable; requests are refused (fail-closed)." + cause, store.LastError));
    }
}
