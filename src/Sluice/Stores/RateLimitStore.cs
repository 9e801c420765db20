namespace Sluice;

/// <summary>
/// Keeps the usage of every layer and key and decides requests against it. A store evaluates all layers and rates of
/// one request atomically: the request is allowed only if every rate of every non-shadow layer has room for its cost,
/// and then every such rate (and every shadow layer that had room itself) is charged; a denied request charges nothing.
/// </summary>
/// <remarks>
/// Implementations: <see cref="MemoryRateLimitStore"/> (one process) and the Redis store in <c>Sluice.Redis</c>
/// (many processes, one round trip per decision). Both pass the same contract test suite.
/// </remarks>
public abstract class RateLimitStore
{
    /// <summary>
    /// The most layers one decision may name; <see cref="AcquireAsync"/> refuses more with an
    /// <see cref="ArgumentException"/>. Integrations check their configuration against it at startup. Unbounded unless a
    /// store says otherwise.
    /// </summary>
    public virtual int MaxLayersPerDecision => int.MaxValue;

    /// <summary>
    /// Decides one request against every layer in <paramref name="layers"/>, in order, and writes one status per rate
    /// in force (layer by layer) to <paramref name="statuses"/>.
    /// </summary>
    /// <param name="layers">The layers that apply, each with the request's key in it. May be empty (always allowed).</param>
    /// <param name="statuses">
    /// Receives the per-rate statuses; it must hold one entry per rate in force, at most
    /// <see cref="RateLimitLayer.MaxRates"/> per layer (see <see cref="GetStatusCapacity"/>).
    /// </param>
    /// <param name="cost">Units to charge every rate; 1 by default, 0 to read the state without charging. Not negative.</param>
    /// <param name="cancellationToken">Cancels waiting for a distributed store.</param>
    /// <returns>The decision. When it holds concurrency permits (<see cref="RateLimitDecision.LeaseId"/> ≠ 0), release them with <see cref="ReleaseAsync"/>.</returns>
    public abstract ValueTask<RateLimitDecision> AcquireAsync(ReadOnlyMemory<LayerKey> layers, Memory<RateStatus> statuses, long cost = 1, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the concurrency permits an allowed decision took. Safe to call when it took none. Call it once per lease
    /// (<see cref="RateLimitResult"/> does): the in-memory store counts permits rather than naming them, so a second
    /// release of one lease there would return a permit another request still holds.
    /// </summary>
    /// <param name="layers">The same layers the decision was made for.</param>
    /// <param name="leaseId">The decision's <see cref="RateLimitDecision.LeaseId"/>.</param>
    /// <param name="cancellationToken">Cancels waiting for a distributed store.</param>
    public abstract ValueTask ReleaseAsync(ReadOnlyMemory<LayerKey> layers, long leaseId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces <paramref name="layer"/>'s rates for one key, effective for the next decision, keeping the key's usage:
    /// the n-th rate of the override continues the n-th rate's count.
    /// </summary>
    /// <exception cref="ArgumentException">The rates do not suit the layer; the message lists every problem.</exception>
    public abstract ValueTask SetOverrideAsync(RateLimitLayer layer, string key, IReadOnlyList<Rate> rates, CancellationToken cancellationToken = default);

    /// <summary>Restores the layer's own rates for one key. Returns whether an override was removed.</summary>
    public abstract ValueTask<bool> RemoveOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default);

    /// <summary>Returns the override for one key, or <see langword="null"/> when the layer's own rates apply.</summary>
    public abstract ValueTask<IReadOnlyList<Rate>?> GetOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default);

    /// <summary>The status buffer length that fits any decision over <paramref name="layerCount"/> layers, overrides included.</summary>
    public static int GetStatusCapacity(int layerCount) => layerCount * RateLimitLayer.MaxRates;

    /// <summary>Throws the <see cref="ArgumentException"/> of an override that does not suit its layer.</summary>
    protected static void ValidateOverride(RateLimitLayer layer, string key, IReadOnlyList<Rate> rates)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(rates);
        var problems = layer.ValidateOverride([.. rates]);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The override of layer '{layer.Name}' for key '{key}' is invalid: {string.Join("; ", problems)}.", nameof(rates));
        }
    }
}
