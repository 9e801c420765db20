namespace Sluice;

/// <summary>
/// A named limit partitioned by a key the caller supplies (an IP, an API key, an account, a domain): one or more
/// rates enforced at the same time with one algorithm. Immutable; build a new layer to change it.
/// </summary>
/// <remarks>
/// A store keeps state per layer <see cref="Name"/>, algorithm and segment count, so a new layer object with the same
/// name and algorithm (a configuration reload) keeps every key's usage while its rates take effect. Build layer objects
/// once per configuration, not per request: the newest object of a name is taken as the configuration in force, and
/// when its fixed or sliding periods differ from the previous one's, every key's state is rewritten in its terms (at
/// once in memory, as each key is next read in Redis), while an older object reads that state as a count of another
/// period. Rates that differ per caller (a plan, an operator's exception) are per-key overrides
/// (<see cref="RateLimitStore.SetOverrideAsync"/>) or layers of their own names.
/// </remarks>
public sealed class RateLimitLayer
{
    /// <summary>The default number of segments of a sliding window: 10.</summary>
    public const int DefaultSlidingWindowSegments = 10;

    /// <summary>The largest number of rates in one layer or override: 8.</summary>
    public const int MaxRates = 8;

    private static long s_nextId;

    /// <summary>Creates a layer.</summary>
    /// <param name="name">The layer's name, reported on denial. Must not be empty.</param>
    /// <param name="algorithm">How it counts.</param>
    /// <param name="rates">One to <see cref="MaxRates"/> rates; a concurrency layer takes exactly one.</param>
    /// <exception cref="ArgumentException">Any argument is invalid; the message lists every problem.</exception>
    public RateLimitLayer(string name, RateLimitAlgorithm algorithm, params IEnumerable<Rate> rates)
        : this(name, algorithm, rates, shadow: false, DefaultSlidingWindowSegments)
    {
    }

    /// <summary>Creates a layer with every setting.</summary>
    /// <param name="name">The layer's name, reported on denial. Must not be empty.</param>
    /// <param name="algorithm">How it counts.</param>
    /// <param name="rates">One to <see cref="MaxRates"/> rates; a concurrency layer takes exactly one.</param>
    /// <param name="shadow">When <see langword="true"/> the layer decides and reports but never denies.</param>
    /// <param name="slidingWindowSegments">Segments per sliding window, 1 to 1000; ignored by other algorithms.</param>
    /// <exception cref="ArgumentException">Any argument is invalid; the message lists every problem.</exception>
    public RateLimitLayer(string name, RateLimitAlgorithm algorithm, IEnumerable<Rate> rates, bool shadow, int slidingWindowSegments = DefaultSlidingWindowSegments)
    {
        ArgumentNullException.ThrowIfNull(rates);
        var list = rates.ToArray();
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(name))
        {
            problems.Add("the name is empty");
        }

        if (!Enum.IsDefined(algorithm))
        {
            problems.Add($"the algorithm {(int)algorithm} is unknown");
        }

        if (slidingWindowSegments is < 1 or > 1000)
        {
            problems.Add($"SlidingWindowSegments is {slidingWindowSegments}; it must be between 1 and 1000");
        }

        problems.AddRange(ValidateRates(algorithm, list));
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Layer '{name}' is invalid: {string.Join("; ", problems)}.", nameof(rates));
        }

        Name = name;
        Algorithm = algorithm;
        RateArray = list;
        IsShadow = shadow;
        SlidingWindowSegments = slidingWindowSegments;
        Id = Interlocked.Increment(ref s_nextId);
        CacheSlot = Id < MaxCacheSlots ? (int)Id : -1;
    }

    /// <summary>The layer's name, unique among the layers of one store.</summary>
    public string Name { get; }

    /// <summary>How the layer counts.</summary>
    public RateLimitAlgorithm Algorithm { get; }

    /// <summary>The rates enforced at once, unless a per-key override replaces them.</summary>
    public IReadOnlyList<Rate> Rates => RateArray;

    /// <summary>When <see langword="true"/> the layer is evaluated and reported, but never denies. Default <see langword="false"/>.</summary>
    public bool IsShadow { get; }

    /// <summary>Segments per sliding window. The default is <see cref="DefaultSlidingWindowSegments"/> (10).</summary>
    public int SlidingWindowSegments { get; }

    internal Rate[] RateArray { get; }

    /// <summary>
    /// A process-wide identity, increasing with each layer built, used by stores to cache per-layer lookups. 64 bits: a
    /// program that builds a layer per request would wrap 32 bits within days, and ids must stay unique.
    /// </summary>
    internal long Id { get; }

    /// <summary>
    /// The index under which stores may cache per-layer lookups in an array: the <see cref="Id"/> of one of the first
    /// <see cref="MaxCacheSlots"/> layers built, else -1 (layers built per request are not cached). An <see cref="int"/>,
    /// so that the lookup is one unsigned compare and one load.
    /// </summary>
    internal int CacheSlot { get; }

    /// <summary>How many layers get a <see cref="CacheSlot"/>: 2^20.</summary>
    internal const int MaxCacheSlots = 1 << 20;

    /// <summary>Creates a clock-aligned fixed-window layer.</summary>
    public static RateLimitLayer FixedWindow(string name, params Rate[] rates) => new(name, RateLimitAlgorithm.FixedWindow, rates);

    /// <summary>Creates a sliding-window layer with <see cref="DefaultSlidingWindowSegments"/> segments.</summary>
    public static RateLimitLayer SlidingWindow(string name, params Rate[] rates) => new(name, RateLimitAlgorithm.SlidingWindow, rates);

    /// <summary>Creates a token-bucket (GCRA) layer: each rate is a bucket of <see cref="Rate.Limit"/> tokens refilled over its period.</summary>
    public static RateLimitLayer TokenBucket(string name, params Rate[] rates) => new(name, RateLimitAlgorithm.TokenBucket, rates);

    /// <summary>
    /// Creates a token-bucket (GCRA) layer that refills at <paramref name="refill"/>'s pace and holds
    /// <paramref name="burst"/> tokens (see <see cref="Rate.WithBurst"/>): <c>TokenBucket("api", Rate.Parse("10/s"), 50)</c>.
    /// </summary>
    public static RateLimitLayer TokenBucket(string name, Rate refill, long burst) => new(name, RateLimitAlgorithm.TokenBucket, [refill.WithBurst(burst)]);

    /// <summary>Creates a concurrency layer: at most <paramref name="permitLimit"/> in flight per key.</summary>
    /// <param name="name">The layer's name.</param>
    /// <param name="permitLimit">Requests in flight per key.</param>
    /// <param name="leaseLifetime">How long a distributed store keeps a lease that is never released. Default 5 minutes.</param>
    public static RateLimitLayer Concurrency(string name, int permitLimit, TimeSpan? leaseLifetime = null)
        => new(name, RateLimitAlgorithm.Concurrency, [new Rate(permitLimit, leaseLifetime ?? TimeSpan.FromMinutes(5))]);

    /// <summary>Builds a key of this layer for one request.</summary>
    public LayerKey For(string key) => new(this, key);

    /// <summary>Checks rates meant for this layer (a per-key override) and lists every problem; empty when valid.</summary>
    public IReadOnlyList<string> ValidateOverride(IReadOnlyCollection<Rate> rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        return ValidateRates(Algorithm, rates);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Algorithm}: {string.Join(", ", RateArray)}){(IsShadow ? " shadow" : string.Empty)}";

    private static List<string> ValidateRates(RateLimitAlgorithm algorithm, IReadOnlyCollection<Rate> rates)
    {
        var problems = new List<string>();
        if (rates.Count == 0)
        {
            problems.Add("it has no rates");
        }
        else if (rates.Count > MaxRates)
        {
            problems.Add($"it has {rates.Count} rates; at most {MaxRates} are allowed");
        }

        if (rates.Any(r => r.Limit == 0))
        {
            problems.Add("a rate is uninitialized (default(Rate))");
        }

        if (algorithm == RateLimitAlgorithm.Concurrency && rates.Count > 1)
        {
            problems.Add("a concurrency layer takes exactly one rate (N in flight / lease lifetime)");
        }

        if (rates.Count != rates.Distinct().Count())
        {
            problems.Add("a rate is repeated");
        }

        return problems;
    }
}
