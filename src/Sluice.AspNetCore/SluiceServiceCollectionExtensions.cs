using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sluice;
using Sluice.AspNetCore;
using Sluice.AspNetCore.Diagnostics;
using Sluice.AspNetCore.Middleware;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Sluice.</summary>
public static class SluiceServiceCollectionExtensions
{
    /// <summary>The key under which a store registers itself for <see cref="SluiceOptions.Store"/> = <c>Memory</c>.</summary>
    public const string MemoryStoreName = "Memory";

    /// <summary>
    /// Registers Sluice with options bound from <paramref name="configuration"/> (the <c>Sluice</c> section), reloaded when
    /// it changes. A value of the wrong type (a word where a number goes) and a key that names no setting (a typo) are
    /// reported with every other problem; <c>Sluice:Redis</c> belongs to <c>AddSluiceRedis</c>.
    /// </summary>
    public static IServiceCollection AddSluice(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddSluice(configuration, static _ => { });
    }

    /// <summary>Registers Sluice with options set in code.</summary>
    public static IServiceCollection AddSluice(this IServiceCollection services, Action<SluiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSluiceCore();
        services.Configure(configure);
        return services;
    }

    /// <summary>Registers Sluice with options bound from <paramref name="configuration"/>, then adjusted in code (key selectors, callbacks).</summary>
    public static IServiceCollection AddSluice(this IServiceCollection services, IConfiguration configuration, Action<SluiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSluiceCore();

        // Bound leniently: a value of the wrong type is reported with every other problem instead of stopping the bind.
        services.AddSingleton<IOptionsChangeTokenSource<SluiceOptions>>(new ConfigurationChangeTokenSource<SluiceOptions>(configuration));
        services.Configure<SluiceOptions>(options => SluiceConfiguration.Bind(configuration, options));
        services.Configure(configure);
        return services;
    }

    private static void AddSluiceCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.AddLogging();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddKeyedSingleton<RateLimitStore>(MemoryStoreName, static (sp, _) =>
            new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = sp.GetRequiredService<TimeProvider>() }));
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<SluiceOptions>>().CurrentValue;
            return sp.GetKeyedService<RateLimitStore>(options.Store)
                ?? throw new SluiceConfigurationException([$"{options.SectionPath}:Store '{options.Store}' is not registered: use Memory, or add Sluice.Redis and call AddSluiceRedis() for Redis."]);
        });
        services.TryAddSingleton<SluiceMetrics>();
        services.TryAddSingleton(static sp => new SluiceRuntime(
            sp.GetRequiredService<IOptionsMonitor<SluiceOptions>>(),
            sp.GetRequiredService<RateLimitStore>(),
            sp.GetRequiredService<SluiceMetrics>(),
            sp.GetRequiredService<ILogger<SluiceRuntime>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(static sp => new SluiceLimits(sp.GetRequiredService<SluiceRuntime>()));
    }
}
