using Sluice.AspNetCore.Middleware;

namespace Sluice.AspNetCore;

/// <summary>
/// Run-time control of the configured layers, by name, for admin endpoints: per-key overrides (kept by the store, so a
/// distributed store shares them) and usage read without charging.
/// Usable before the app starts (to restore stored overrides at startup): the first call compiles the configuration
/// (a bad one throws <see cref="SluiceConfigurationException"/> with every problem), and the checks against the mapped
/// endpoints still run when the pipeline is built, as without it.
/// Keys are given as requests carry them, and reach the key the layer counts by: a route value in any case (the
/// middleware lower-cases it), an address in any form (an IPv4-mapped address as IPv4, an IPv6 client by its /64 when
/// the layer groups them); one over 256 characters is kept by its SHA-256, as the middleware keeps it.
/// </summary>
public sealed class SluiceLimits
{
    private readonly SluiceRuntime _runtime;

    internal SluiceLimits(SluiceRuntime runtime) => _runtime = runtime;

    /// <summary>Replaces a layer's rates for one key, keeping its usage.</summary>
    /// <exception cref="ArgumentException">The layer is unknown, or a rate is invalid; the message lists every problem.</exception>
    public async ValueTask SetOverrideAsync(string layerName, string key, IEnumerable<string> rates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rates);
        var layer = Layer(layerName);
        var stored = Stored(layer, key);
        var parsed = new List<Rate>();
        var problems = new List<string>();
        foreach (var text in rates)
        {
            if (Rate.TryParse(text, out var rate, out var error))
            {
                parsed.Add(rate);
            }
            else
            {
                problems.Add($"'{text}' is not a valid rate: {error}");
            }
        }

        if (problems.Count == 0)
        {
            problems.AddRange(layer.Layer.ValidateOverride(parsed));
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"The override of layer '{layerName}' is invalid: {string.Join("; ", problems)}.", nameof(rates));
        }

        await _runtime.Store.SetOverrideAsync(layer.Layer, stored, parsed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Restores the layer's own rates for one key. Returns whether there was an override.</summary>
    public ValueTask<bool> RemoveOverrideAsync(string layerName, string key, CancellationToken cancellationToken = default)
    {
        var layer = Layer(layerName);
        return _runtime.Store.RemoveOverrideAsync(layer.Layer, Stored(layer, key), cancellationToken);
    }

    /// <summary>The override in force for one key, or <see langword="null"/>.</summary>
    public ValueTask<IReadOnlyList<Rate>?> GetOverrideAsync(string layerName, string key, CancellationToken cancellationToken = default)
    {
        var layer = Layer(layerName);
        return _runtime.Store.GetOverrideAsync(layer.Layer, Stored(layer, key), cancellationToken);
    }

    /// <summary>The state of every rate in force for one key of one layer, read without charging.</summary>
    public async ValueTask<IReadOnlyList<RateStatus>> GetUsageAsync(string layerName, string key, CancellationToken cancellationToken = default)
    {
        var layer = Layer(layerName);
        var result = await _runtime.Store.AcquireAsync(0, layer.Layer.For(Stored(layer, key))).ConfigureAwait(false);
        return result.Statuses;
    }

    /// <summary>The layers configured now, by name.</summary>
    public IReadOnlyCollection<string> LayerNames => _runtime.Plan.Layers.Keys;

    /// <summary>
    /// Whether <paramref name="address"/> (an IPv4-mapped one as IPv4) is one of the trusted proxies of the configuration
    /// in force (<c>Sluice:ClientIp:TrustedProxies</c>): the connections whose forwarding header the <c>Ip</c> key
    /// believes, for an application that believes other forwarded headers from the same proxies. A reload Sluice refuses
    /// leaves the list in force as it was. False when none are configured.
    /// </summary>
    public bool IsTrustedProxy(System.Net.IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        _runtime.Start(null);
        return _runtime.Plan.ClientIp.IsTrustedProxy(address);
    }

    private static string Stored(CompiledLayer layer, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return StoredKey.Of(layer.Selector.Canonical(key));
    }

    private CompiledLayer Layer(string layerName)
    {
        ArgumentNullException.ThrowIfNull(layerName);

        // Used at startup before the pipeline is built (to restore stored overrides): compile the configuration now.
        // The endpoints mapped on a WebApplication are not visible through EndpointDataSource until the pipeline is
        // built, so the checks against them wait for UseSluice's middleware.
        _runtime.Start(null);
        return _runtime.Plan.Layers.TryGetValue(layerName, out var compiled)
            ? compiled
            : throw new ArgumentException($"There is no rate-limit layer '{layerName}'.", nameof(layerName));
    }
}
