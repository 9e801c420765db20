using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Sluice.AspNetCore.Middleware;
using Sluice.Configuration;

namespace Sluice.AspNetCore;

/// <summary>
/// Checks a <c>Sluice</c> configuration section without starting anything, for an application that checks all of its
/// settings before it builds (so that one message lists every problem, Sluice's among them) or a deployment step that
/// checks a configuration file.
/// </summary>
public static class SluiceConfiguration
{
    /// <summary>
    /// Every problem <c>AddSluice</c> and <c>UseSluice</c> would report for <paramref name="configuration"/> (then
    /// <paramref name="configure"/>, as passed to <c>AddSluice</c>), in the same words, except those that need the mapped
    /// endpoints (an endpoint requiring a missing layer, an <c>Endpoints</c> pattern matching nothing, more layers on one
    /// endpoint than the store decides at once: the overload taking the endpoints checks them) and whether the named
    /// <c>Store</c> is registered. Empty when there are none.
    /// </summary>
    /// <param name="configuration">The <c>Sluice</c> section, as passed to <c>AddSluice</c>.</param>
    /// <param name="configure">The code-only settings (key selectors, callbacks), as passed to <c>AddSluice</c>; optional.</param>
    public static IReadOnlyList<string> Validate(IConfiguration configuration, Action<SluiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        SluicePlan.Build(Options(configuration, configure), problems);
        return problems;
    }

    /// <summary>
    /// Every problem <c>AddSluice</c> and <c>UseSluice</c> would report for <paramref name="configuration"/> (then
    /// <paramref name="configure"/>) and <paramref name="endpoints"/>, in the same words, except whether the named
    /// <c>Store</c> is registered (the layer count is checked against <paramref name="maxLayersPerDecision"/> instead,
    /// the store's <c>RateLimitStore.MaxLayersPerDecision</c>). Endpoints that require a layer the
    /// configuration does not declare are listed even when the configuration has other problems. Lets an application
    /// check everything after mapping its endpoints and before any other startup work (a database migration, a
    /// secret printed once), instead of when the host builds the pipeline. On a <c>WebApplication</c>, the mapped
    /// endpoints are <c>((IEndpointRouteBuilder)app).DataSources.SelectMany(s =&gt; s.Endpoints)</c>.
    /// </summary>
    /// <param name="configuration">The <c>Sluice</c> section, as passed to <c>AddSluice</c>.</param>
    /// <param name="configure">The code-only settings, as passed to <c>AddSluice</c>; may be null.</param>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="maxLayersPerDecision">The most layers the store decides for one request; unchecked by default.</param>
    public static IReadOnlyList<string> Validate(IConfiguration configuration, Action<SluiceOptions>? configure, IEnumerable<Endpoint> endpoints, int maxLayersPerDecision = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(endpoints);
        var problems = new List<string>();
        SluicePlan.Build(Options(configuration, configure), endpoints, maxLayersPerDecision, problems);
        return problems;
    }

    /// <summary>The options <c>AddSluice</c> would bind from <paramref name="configuration"/>, then <paramref name="configure"/>.</summary>
    private static SluiceOptions Options(IConfiguration configuration, Action<SluiceOptions>? configure)
    {
        var options = new SluiceOptions();
        Bind(configuration, options);
        configure?.Invoke(options);
        return options;
    }

    /// <summary>
    /// Binds <paramref name="configuration"/> into <paramref name="options"/> leniently: a value of the wrong type or a key
    /// that names no setting becomes a binding problem, reported with every other; <c>Redis</c> belongs to <c>AddSluiceRedis</c>.
    /// </summary>
    internal static void Bind(IConfiguration configuration, SluiceOptions options)
    {
        options.SectionPath = configuration is IConfigurationSection { Path.Length: > 0 } section ? section.Path : "Sluice";
        options.BindingProblems = LenientBinder.Bind(configuration, options, "Redis");
    }
}
