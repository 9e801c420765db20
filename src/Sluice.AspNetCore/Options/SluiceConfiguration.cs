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
    /// endpoint than the store decides at once) and whether the named <c>Store</c> is registered. Empty when there are none.
    /// </summary>
    /// <param name="configuration">The <c>Sluice</c> section, as passed to <c>AddSluice</c>.</param>
    /// <param name="configure">The code-only settings (key selectors, callbacks), as passed to <c>AddSluice</c>; optional.</param>
    public static IReadOnlyList<string> Validate(IConfiguration configuration, Action<SluiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new SluiceOptions();
        Bind(configuration, options);
        configure?.Invoke(options);
        var problems = new List<string>();
        SluicePlan.Build(options, problems);
        return problems;
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
