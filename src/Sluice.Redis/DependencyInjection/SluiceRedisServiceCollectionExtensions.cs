using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sluice;
using Sluice.Configuration;
using Sluice.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis store.</summary>
public static class SluiceRedisServiceCollectionExtensions
{
    /// <summary>The key under which the store is registered, as named by <c>Sluice:Store = "Redis"</c>.</summary>
    public const string StoreName = "Redis";

    /// <summary>
    /// Registers <see cref="RedisRateLimitStore"/> as the <c>Redis</c> store (used when <c>Sluice:Store</c> is
    /// <c>Redis</c>) with options bound from <paramref name="configuration"/> (the <c>Sluice:Redis</c> section), and its
    /// health check <c>sluice-redis</c>. The store connects when first used. Invalid options, a value of the wrong type
    /// included, stop it with one message listing every problem.
    /// </summary>
    public static IServiceCollection AddSluiceRedis(this IServiceCollection services, IConfiguration configuration, Action<RedisRateLimitStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RedisRateLimitStoreOptions>()
            .Configure(options => options.BindingProblems = [.. LenientBinder.Bind(configuration, options).Select(p => p.TrimEnd('.'))])
            .Configure<IServiceProvider>((options, provider) =>
            {
                if (provider.GetService<TimeProvider>() is { } time)
                {
                    options.TimeProvider = time;
                }

                configure?.Invoke(options);
            });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisRateLimitStoreOptions>, RedisRateLimitStoreOptionsValidator>());
        services.TryAddSingleton(static provider =>
        {
            var options = provider.GetRequiredService<IOptions<RedisRateLimitStoreOptions>>().Value;
            return new RedisRateLimitStore(options);
        });
        services.TryAddKeyedSingleton<RateLimitStore>(StoreName, static (provider, _) => provider.GetRequiredService<RedisRateLimitStore>());
        services.AddHealthChecks().Add(new HealthCheckRegistration("sluice-redis", static provider => new RedisRateLimitStoreHealthCheck(provider), failureStatus: null, tags: null));
        return services;
    }
}
