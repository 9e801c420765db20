using System.Diagnostics.Metrics;
using System.Globalization;
using Sluice.Redis.Faults;
using Sluice.Redis.Keys;
using Sluice.Redis.Overrides;
using Sluice.Redis.Reloads;
using Sluice.Redis.Scripts;
using StackExchange.Redis;

namespace Sluice.Redis;

/// <summary>
/// A store shared by many instances: every decision evaluates and charges all its layers and rates in Redis,
/// atomically, with one EVALSHA, using the Redis server's clock. Semantics are those of <see cref="MemoryRateLimitStore"/>
/// (the same contract suite passes against both).
/// </summary>
/// <remarks>
/// <para>
/// Keys are <c>{prefix}{layer}:{algorithm}:{key}</c> and always carry a TTL covering their state, so Redis memory is
/// bounded by the keys still inside a window. Concurrency permits are sorted-set members whose score is their safety
/// expiry (the rate's period): a crashed instance cannot hold a permit forever.
/// </para>
/// <para>
/// When Redis fails or answers later than <see cref="RedisRateLimitStoreOptions.Timeout"/>, decisions fall back to a
/// local in-memory store (fail-open, the default) or throw <see cref="RateLimitStoreUnavailableException"/>
/// (fail-closed). After <see cref="RedisRateLimitStoreOptions.FailuresToBreak"/> failures a circuit breaker stops
/// asking Redis for <see cref="RedisRateLimitStoreOptions.BreakDuration"/>, then one request probes it again. Fallbacks
/// are counted by the <c>sluice.redis.fallbacks</c> instrument of the <c>Sluice</c> meter.
/// </para>
/// </remarks>
public sealed class RedisRateLimitStore : RateLimitStore, IDisposable
{
    /// <summary>The most layers one request may name (a decision's permits travel as a 31-bit mask).</summary>
    public const int MaxLayersPerRequest = 31;

    /// <summary>Returns one lease's permits to every concurrency layer of a request (KEYS), atomically.</summary>
    private const string ReleaseScript = "for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end return #KEYS";

    private static readonly Meter s_meter = new("Sluice");
    private static readonly Counter<long> s_fallbacks = s_meter.CreateCounter<long>("sluice.redis.fallbacks", "{decision}", "Decisions made without Redis.");

    private readonly RedisRateLimitStoreOptions _options;
    private readonly Task<ConnectionMultiplexer> _connecting;
    private readonly bool _ownsConnection;
    private readonly CircuitBreaker _breaker;
    private readonly MemoryRateLimitStore _fallback;
    private readonly OverrideCache _overrides;
    private readonly ReloadHistory _reloads = new();
    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];
    private long _nextLease;

    /// <summary>The database once connected, so that a decision does not await the connection again.</summary>
    private IDatabase? _database;
    private long _fallbacks;

    /// <summary>Redis's clock minus this instance's, from the last decision's answer (with server time); 0 before any.</summary>
    private long _serverClockOffsetMicros;

    /// <summary>
    /// Connects to Redis as configured, in the background: the constructor never blocks, and decisions that come before
    /// the connection (or while Redis is down) take the failure path.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public RedisRateLimitStore(RedisRateLimitStoreOptions options)
        : this(options, null)
    {
    }

    /// <summary>Uses an existing connection (the caller keeps owning it).</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public RedisRateLimitStore(RedisRateLimitStoreOptions options, ConnectionMultiplexer? connection)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"RedisRateLimitStoreOptions are invalid: {string.Join("; ", problems)}.", nameof(options));
        }

        _options = options;
        if (connection is null)
        {
            var configuration = ConfigurationOptions.Parse(options.Configuration);
            configuration.AbortOnConnectFail = false;
            configuration.ConnectTimeout = (int)Math.Max(options.Timeout.TotalMilliseconds, 1000);
            configuration.SyncTimeout = (int)Math.Max(options.Timeout.TotalMilliseconds, 1);
            _connecting = ConnectAsync(configuration);
            _ownsConnection = true;
        }
        else
        {
            _connecting = Task.FromResult(connection);
            _ = PreloadScriptAsync(connection, options.Timeout);
        }

        _breaker = new CircuitBreaker(options.FailuresToBreak, options.BreakDuration, options.TimeProvider);
        _fallback = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = options.TimeProvider });
        _overrides = new OverrideCache(DatabaseAsync, options.KeyPrefix, options.OverrideRefreshInterval, options.TimeProvider);
    }

    /// <summary>Whether decisions are currently made by Redis (the circuit is closed and the connection is up).</summary>
    public bool IsUsingRedis => !_breaker.IsOpen && _connecting.IsCompletedSuccessfully && _connecting.Result.IsConnected;

    /// <summary>How many decisions this store made without Redis (locally, or refused when failing closed).</summary>
    public long FallbackCount => Interlocked.Read(ref _fallbacks);

    /// <summary>The last Redis error that sent a decision to the fallback, for diagnostics.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>The failure mode in force.</summary>
    public RedisFailureMode FailureMode => _options.FailureMode;

    /// <inheritdoc />
    public override int MaxLayersPerDecision => MaxLayersPerRequest;

    /// <inheritdoc />
    public override async ValueTask<RateLimitDecision> AcquireAsync(ReadOnlyMemory<LayerKey> layers, Memory<RateStatus> statuses, long cost = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        if (layers.Length == 0)
        {
            return new RateLimitDecision(true, 0, -1, 0, 0, 0);
        }

        if (layers.Length > MaxLayersPerRequest)
        {
            throw new ArgumentException($"A request may name at most {MaxLayersPerRequest} layers in the Redis store; it named {layers.Length}.", nameof(layers));
        }

        var rates = RatesInForce(layers.Span, out var statusCount);
        if (statuses.Length < statusCount)
        {
            throw new ArgumentException($"The status buffer holds {statuses.Length} entries; this request needs {statusCount}.", nameof(statuses));
        }

        var local = Microseconds.Now(_options.TimeProvider);
        var hops = ReloadHopsOf(layers.Span, rates, local);
        if (_breaker.ShouldTry())
        {
            var lease = (Interlocked.Increment(ref _nextLease) & 0x7FFF_FFFF) | 0x4000_0000;
            var (keys, values) = Arguments(layers.Span, rates, hops, cost, lease, local);
            Task<RedisResult>? sent = null;
            try
            {
                // Connected: one EVALSHA and nothing around it. A Redis restart flushes the script; NOSCRIPT loads it again.
                var database = _database ?? await DatabaseAsync().ConfigureAwait(false);
                RedisResult result;
                try
                {
                    sent = database.ScriptEvaluateAsync(DecideScript.Sha1, keys, values);
                    result = await sent.WaitAsync(_options.Timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (RedisServerException e) when (DecideScript.IsNoScript(e))
                {
                    sent = DecideScript.ReloadAndEvaluateAsync(database, keys, values);
                    result = await sent.WaitAsync(_options.Timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                }

                _breaker.Succeeded();
                return Read((RedisResult[])result!, layers.Span, rates, statuses.Span, lease);
            }
            catch (Exception e) when (IsRedisFailure(e, cancellationToken))
            {
                _breaker.Failed();
                RateLimitDecision fallback;
                try
                {
                    fallback = Fallback(layers, statuses, cost, Explain(e), "error");
                }
                catch (RateLimitStoreUnavailableException)
                {
                    ReturnUnreadCharges(sent, layers.Span, rates, keys, values[2], cost, refundCounts: true);
                    throw;
                }

                // A request the fallback admitted is served, so Redis's count of it stays; one it refused is not.
                ReturnUnreadCharges(sent, layers.Span, rates, keys, values[2], cost, refundCounts: !fallback.IsAllowed);
                return fallback;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller gave up (a client disconnected): nothing is known about Redis, and the request is not served.
                _breaker.Abandoned();
                ReturnUnreadCharges(sent, layers.Span, rates, keys, values[2], cost, refundCounts: true);
                throw;
            }
            catch
            {
                // Anything unexpected still ends this attempt, so that a probe never stays taken.
                _breaker.Failed();
                throw;
            }
        }

        return Fallback(layers, statuses, cost, null, "circuit_open");
    }

    /// <summary>
    /// After a decision whose answer nobody reads (its caller gave up, or it outlived the timeout and fell back): once
    /// Redis answers that it admitted the request, gives back what that decision took there. The concurrency permits
    /// always (the caller holds no Redis lease to release them, so they would stay taken for the lease's whole safety
    /// lifetime); the rate counts when <paramref name="refundCounts"/> says the request was not admitted after all (the
    /// fallback refused it, the store failed closed, or the caller gave up), since a request that is refused is charged
    /// nothing. Best effort: when Redis fails again, permits expire by themselves and counts stay.
    /// </summary>
    private void ReturnUnreadCharges(Task<RedisResult>? sent, ReadOnlySpan<LayerKey> layers, Rate[][]? rates, RedisKey[] keys, RedisValue member, long cost, bool refundCounts)
    {
        if (sent is null || cost == 0)
        {
            return;
        }

        var holdsPermits = !member.IsNullOrEmpty;
        if (!holdsPermits && !refundCounts)
        {
            return;
        }

        _ = sent.ContinueWith(
            async (answer, state) =>
            {
                var (store, charged) = ((RedisRateLimitStore, Func<RedisResult[], (RedisKey[] Keys, RedisValue[] Values)>))state!;
                try
                {
                    if (answer.IsCompletedSuccessfully && (RedisResult[])answer.Result! is var reply && (long)reply[0] == 1
                        && charged(reply) is { Keys.Length: > 0 } refund)
                    {
                        // Rare: sent as text (EVAL), which needs no NOSCRIPT retry.
                        var database = await store.DatabaseAsync().ConfigureAwait(false);
                        await database.ScriptEvaluateAsync(DecideScript.Text, refund.Keys, refund.Values).WaitAsync(store._options.Timeout, store._options.TimeProvider).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (IsRedisFailure(e, CancellationToken.None))
                {
                    // Permits expire by themselves after their safety lifetime; counts stay charged.
                }
            },
            (this, RefundArguments(layers.ToArray(), rates, keys, member, cost, refundCounts)),
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    /// <summary>
    /// The decision script's refund mode for the layers an admitting <c>reply</c> charged: each key's algorithm,
    /// segments and rates, the decision's time and cost; concurrency layers only for their permits, rate layers only when
    /// <paramref name="refundCounts"/>.
    /// </summary>
    private static Func<RedisResult[], (RedisKey[] Keys, RedisValue[] Values)> RefundArguments(LayerKey[] layers, Rate[][]? rates, RedisKey[] keys, RedisValue member, long cost, bool refundCounts) => reply =>
    {
        var refundKeys = new List<RedisKey>();
        var values = new List<RedisValue> { (long)reply[1], "refund", member, cost };
        var at = 2;
        for (var i = 0; i < layers.Length; i++)
        {
            var layerRates = RatesOf(rates, layers, i);
            var passed = true;
            for (var r = 0; r < layerRates.Length; r++, at += 4)
            {
                passed &= (long)reply[at + 3] == 0;
            }

            var layer = layers[i].Layer;
            var permits = layer.Algorithm == RateLimitAlgorithm.Concurrency;
            if (passed && (permits ? !member.IsNullOrEmpty : refundCounts))
            {
                refundKeys.Add(keys[i]);
                values.AddRange([AlgorithmCode(layer.Algorithm), layer.SlidingWindowSegments, permits ? 0 : layerRates.Length]);
                foreach (var rate in permits ? [] : layerRates)
                {
                    values.AddRange([rate.Limit, rate.PeriodMicros]);
                }
            }
        }

        return ([.. refundKeys], [.. values]);
    };

    /// <inheritdoc />
    public override async ValueTask ReleaseAsync(ReadOnlyMemory<LayerKey> layers, long leaseId, CancellationToken cancellationToken = default)
    {
        if (leaseId == 0)
        {
            return;
        }

        if (leaseId < 0)
        {
            _fallback.Release(layers.Span, leaseId & long.MaxValue);
            return;
        }

        var member = Member(leaseId >> 32);
        var mask = (uint)leaseId;
        var keys = new List<RedisKey>();
        for (var i = 0; i < layers.Length; i++)
        {
            if ((mask & (1u << i)) != 0)
            {
                keys.Add(Key(layers.Span[i].Layer, layers.Span[i].Key));
            }
        }

        try
        {
            var database = await DatabaseAsync().WaitAsync(_options.Timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);

            // One command either way: a ZREM for one concurrency layer, else one script that removes the lease from
            // every layer's set at once, so that a connection lost halfway cannot return some permits and keep others.
            Task released = keys.Count == 1
                ? database.SortedSetRemoveAsync(keys[0], member)
                : database.ScriptEvaluateAsync(ReleaseScript, [.. keys], [member]);
            await released.WaitAsync(_options.Timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsRedisFailure(e, cancellationToken))
        {
            // The lease expires by itself after its safety lifetime.
        }
    }

    /// <inheritdoc />
    public override async ValueTask SetOverrideAsync(RateLimitLayer layer, string key, IReadOnlyList<Rate> rates, CancellationToken cancellationToken = default)
    {
        ValidateOverride(layer, key, rates);
        await CarryUsageAsync(layer, key, [.. rates], cancellationToken).ConfigureAwait(false);
        await _overrides.SetAsync(layer.Name, key, rates).ConfigureAwait(false);
        await _fallback.SetOverrideAsync(layer, key, rates, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<bool> RemoveOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(key);
        _reloads.HopsFor(layer, DecisionTime());
        await CarryUsageAsync(layer, key, layer.RateArray, cancellationToken).ConfigureAwait(false);
        await _fallback.RemoveOverrideAsync(layer, key, cancellationToken).ConfigureAwait(false);
        return await _overrides.RemoveAsync(layer.Name, key).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<IReadOnlyList<Rate>?> GetOverrideAsync(RateLimitLayer layer, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(key);
        _reloads.HopsFor(layer, DecisionTime());
        return await _overrides.ReadAsync(layer.Name, key).ConfigureAwait(false);
    }

    /// <summary>
    /// Before a key's rates change to <paramref name="to"/>: each fixed or sliding rate whose period changes from the
    /// rates in force (the override kept in Redis, else the layer's) has its state rewritten in the new period's terms,
    /// keeping the usage in force, as the in-memory store does. Best effort: when Redis fails, the override is changed
    /// anyway (as before) and such counts start again. Instances that still decide with the old rates until their next
    /// override refresh may restart such a count meanwhile.
    /// </summary>
    /// <remarks>
    /// Reloads: the in-memory store rewrites every key without an override when a reload changes a period, and leaves
    /// keys under an override alone. So when the rates in force are the layer's, every rate is first read through the
    /// reload hops (and written converted); when an override is removed, each rate it did not convert is settled: its
    /// state is marked as read as it is, so that no hop of a reload that happened under the override reads it later, and
    /// kept, as the in-memory store keeps the slot of a rate an override hid (a count not in force under the layer's
    /// period reads as none, and counts again if a later reload brings its window back).
    /// </remarks>
    private async Task CarryUsageAsync(RateLimitLayer layer, string key, Rate[] to, CancellationToken cancellationToken)
    {
        if (layer.Algorithm is not (RateLimitAlgorithm.FixedWindow or RateLimitAlgorithm.SlidingWindow))
        {
            return;
        }

        try
        {
            var time = DecisionTime();
            var layerHops = _reloads.HopsFor(layer, time);
            var mark = _reloads.MarkFor(layer, time);
            var custom = await _overrides.ReadAsync(layer.Name, key).WaitAsync(_options.Timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            var from = custom ?? layer.RateArray;
            var hops = custom is null ? layerHops : null;
            var removing = custom is not null && ReferenceEquals(to, layer.RateArray);

            // The decision script's carry mode, so that the arithmetic reading a window is the decisions' own. Overrides
            // are rare: the script is sent as text (EVAL), which also needs no NOSCRIPT retry.
            var values = new List<RedisValue>
            {
                _options.UseServerTime ? RedisValue.EmptyString : (RedisValue)Microseconds.Now(_options.TimeProvider),
                "carry",
                _instance,
                (long)_options.KeyTtlPadding.TotalMilliseconds,
                AlgorithmCode(layer.Algorithm),
                layer.SlidingWindowSegments,
                hops?.Count ?? 0,
                mark,
            };
            values.AddRange(hops?.At.Select(at => (RedisValue)at) ?? []);
            var header = values.Count;
            for (var r = 0; r < Math.Max(from.Length, to.Length); r++)
            {
                var changes = r < from.Length && r < to.Length && from[r].PeriodMicros != to[r].PeriodMicros;
                if (changes || (hops is not null && r < from.Length))
                {
                    values.AddRange([r, from[r].PeriodMicros, r < to.Length ? to[r].PeriodMicros : from[r].PeriodMicros]);
                    values.AddRange(hops?.From[r].Select(period => (RedisValue)period) ?? []);
                }
                else if (removing && r < to.Length)
                {
                    values.AddRange([r, 0, to[r].PeriodMicros]);
                }
            }

            if (values.Count > header)
            {
                var database = await DatabaseAsync().WaitAsync(_options.Timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                await database.ScriptEvaluateAsync(DecideScript.Text, [Key(layer, key)], [.. values]).WaitAsync(_options.Timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsRedisFailure(e, cancellationToken))
        {
            // Changing the override itself reports Redis's failure, as it did before usage was carried.
        }
    }

    /// <summary>Re-reads the overrides kept in Redis now, instead of at the next refresh.</summary>
    public Task RefreshOverridesAsync() => _overrides.RefreshAsync(skipIfBusy: false);

    /// <inheritdoc />
    public void Dispose()
    {
        _overrides.Dispose();
        if (_ownsConnection)
        {
            _connecting.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Connects with completions delivered concurrently: StackExchange.Redis 1.2 otherwise runs every continuation of
    /// every command one after another on one worker, so that reading each decision's reply serialises the whole
    /// process (measured: 57 % of redis-benchmark's throughput instead of the client's 85 %). No decision depends on
    /// the order in which other decisions' replies are read.
    /// </summary>
    /// <summary>
    /// Loads the decision script as soon as the connection is up, so that the first decision is one EVALSHA rather than a
    /// NOSCRIPT answer, a SCRIPT LOAD and a retry inside that decision's timeout. Best effort and bounded by the connect
    /// timeout: when it fails (Redis not up yet), the first decision loads the script as after a Redis restart.
    /// </summary>
    private static async Task PreloadScriptAsync(ConnectionMultiplexer connection, TimeSpan limit)
    {
        try
        {
            await DecideScript.LoadAsync(connection).WaitAsync(limit).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Left to the first decision's NOSCRIPT handling.
        }
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        connection.PreserveAsyncOrder = false;
        await PreloadScriptAsync(connection, TimeSpan.FromMilliseconds(configuration.ConnectTimeout)).ConfigureAwait(false);
        return connection;
    }

    private async Task<IDatabase> DatabaseAsync()
    {
        var database = (await _connecting.ConfigureAwait(false)).GetDatabase();
        _database = database;
        return database;
    }

    /// <summary>
    /// A Redis failure, the client's included: a command the client refuses to send (<see cref="RedisCommandException"/>:
    /// keys in several slots of a cluster) is a failure of the store, not of the caller.
    /// </summary>
    private static bool IsRedisFailure(Exception e, CancellationToken cancellationToken) =>
        e is RedisException or RedisCommandException or TimeoutException or RedisTimeoutException or ObjectDisposedException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static int AlgorithmCode(RateLimitAlgorithm algorithm) => algorithm switch
    {
        RateLimitAlgorithm.FixedWindow => 1,
        RateLimitAlgorithm.SlidingWindow => 2,
        RateLimitAlgorithm.TokenBucket => 3,
        _ => 4,
    };

    private string Member(long lease) => _instance + ":" + lease.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The Redis key of a layer's state for one client key. A fixed window keeps rate r &gt; 0 in this key followed by
    /// <c>#r</c>, so every <c>#</c> of the client key is doubled there: the separator is then the one <c>#</c> that ends
    /// an odd run, and no client key (<c>v#1</c>) names another key's further rate (<c>v</c>'s second). A colon in the
    /// layer's name is escaped, so that layer <c>a:f</c>'s key <c>x</c> is not layer <c>a</c>'s key <c>f:x</c>.
    /// </summary>
    private string Key(RateLimitLayer layer, string key)
    {
        if (layer.Algorithm == RateLimitAlgorithm.FixedWindow && key.Contains('#'))
        {
            key = key.Replace("#", "##", StringComparison.Ordinal);
        }

        var algorithm = layer.Algorithm switch
        {
            RateLimitAlgorithm.FixedWindow => "f",
            // 'w' since the hash holds only the segments with a count (before, 's': every segment of a ring, a layout
            // this script no longer reads; such keys are left to their TTL, and their layers count afresh once).
            RateLimitAlgorithm.SlidingWindow => "w" + layer.SlidingWindowSegments.ToString(CultureInfo.InvariantCulture),
            RateLimitAlgorithm.TokenBucket => "t",
            _ => "c",
        };
        return _options.KeyPrefix + KeyPart.Escaped(layer.Name) + ":" + algorithm + ":" + key;
    }

    /// <summary>The rates in force per layer: the layers' own (no allocation) unless some key has an override.</summary>
    private Rate[][]? RatesInForce(ReadOnlySpan<LayerKey> layers, out int statusCount)
    {
        Rate[][]? rates = null;
        statusCount = 0;
        for (var i = 0; i < layers.Length; i++)
        {
            var (layer, key) = layers[i];
            ArgumentNullException.ThrowIfNull(layer);
            ArgumentNullException.ThrowIfNull(key);
            if (!_overrides.IsEmpty && _overrides.TryGet(layer.Name, key, out var custom))
            {
                rates ??= new Rate[layers.Length][];
                rates[i] = custom;
            }

            statusCount += RatesOf(rates, layers, i).Length;
        }

        return rates;
    }

    private static Rate[] RatesOf(Rate[][]? rates, ReadOnlySpan<LayerKey> layers, int i) => rates?[i] ?? layers[i].Layer.RateArray;

    /// <summary>This instance's best reading of the decisions' clock: Redis's (from the last answer) or its own.</summary>
    private long DecisionTime() => DecisionTime(Microseconds.Now(_options.TimeProvider));

    /// <summary>The decisions' clock for a reading <paramref name="local"/> of this instance's own.</summary>
    private long DecisionTime(long local) => local + (_options.UseServerTime ? Volatile.Read(ref _serverClockOffsetMicros) : 0);

    /// <summary>
    /// Per layer, the configuration reloads its keys' state may still have to be read through (null for none, the common
    /// case, allocating nothing): only for the newest object of a fixed or sliding layer, and not for a key with an
    /// override, whose rates no reload changes. Also registers newer layer objects.
    /// </summary>
    private ReloadHops?[]? ReloadHopsOf(ReadOnlySpan<LayerKey> layers, Rate[][]? rates, long local)
    {
        var time = DecisionTime(local);
        ReloadHops?[]? hops = null;
        for (var i = 0; i < layers.Length; i++)
        {
            if (_reloads.HopsFor(layers[i].Layer, time) is { } found && rates?[i] is null)
            {
                hops ??= new ReloadHops?[layers.Length];
                hops[i] = found;
            }
        }

        return hops;
    }

    private (RedisKey[] Keys, RedisValue[] Values) Arguments(ReadOnlySpan<LayerKey> layers, Rate[][]? rates, ReloadHops?[]? hops, long cost, long lease, long local)
    {
        var keys = new RedisKey[layers.Length];
        var count = 4;
        var holdsPermits = false;
        for (var i = 0; i < layers.Length; i++)
        {
            var rateCount = RatesOf(rates, layers, i).Length;
            count += 4 + (2 * rateCount) + (hops?[i] is { } layerHops ? 2 + layerHops.Count + (rateCount * layerHops.Count) : 0);
            holdsPermits |= layers[i].Layer.Algorithm == RateLimitAlgorithm.Concurrency;
        }

        // Sized once and filled in place: the arguments are most of what a decision allocates besides the client's own.
        var values = new RedisValue[count];
        values[0] = _options.UseServerTime ? RedisValue.EmptyString : (RedisValue)local;
        values[1] = cost;
        values[2] = holdsPermits ? Member(lease) : RedisValue.EmptyString;
        values[3] = (long)_options.KeyTtlPadding.TotalMilliseconds;
        var at = 4;
        for (var i = 0; i < layers.Length; i++)
        {
            var layer = layers[i].Layer;
            var layerRates = RatesOf(rates, layers, i);
            var layerHops = hops?[i];
            keys[i] = Key(layer, layers[i].Key);
            values[at++] = AlgorithmCode(layer.Algorithm) + (layerHops is null ? 0 : 4);
            values[at++] = layer.IsShadow ? 1 : 0;
            values[at++] = layer.SlidingWindowSegments;
            values[at++] = layerRates.Length;
            if (layerHops is not null)
            {
                values[at++] = layerHops.Count;
                values[at++] = _instance;
                foreach (var moment in layerHops.At)
                {
                    values[at++] = moment;
                }
            }

            for (var r = 0; r < layerRates.Length; r++)
            {
                values[at++] = layerRates[r].Limit;
                values[at++] = layerRates[r].PeriodMicros;
                if (layerHops is not null)
                {
                    foreach (var period in layerHops.From[r])
                    {
                        values[at++] = period;
                    }
                }
            }
        }

        return (keys, values);
    }

    private RateLimitDecision Read(RedisResult[] reply, ReadOnlySpan<LayerKey> layers, Rate[][]? rates, Span<RateStatus> statuses, long lease)
    {
        var allowed = (long)reply[0] == 1;
        var now = (long)reply[1];
        if (_options.UseServerTime)
        {
            // Read on arrival rather than kept from the send: off by a round trip at most, and one field less in every
            // decision's state machine.
            Volatile.Write(ref _serverClockOffsetMicros, now - Microseconds.Now(_options.TimeProvider));
        }

        var status = 0;
        var at = 2;
        var permits = 0u;
        for (var i = 0; i < layers.Length; i++)
        {
            var passed = true;
            var layerRates = RatesOf(rates, layers, i);
            for (var r = 0; r < layerRates.Length; r++, at += 4)
            {
                var outcome = (RateOutcome)(int)(long)reply[at + 3];
                passed &= outcome == RateOutcome.Allowed;
                statuses[status++] = new RateStatus(i, r, layerRates[r], (long)reply[at], (long)reply[at + 1], (long)reply[at + 2], outcome, !ReferenceEquals(layerRates, layers[i].Layer.RateArray));
            }

            if (allowed && passed && layers[i].Layer.Algorithm == RateLimitAlgorithm.Concurrency)
            {
                permits |= 1u << i;
            }
        }

        if (allowed)
        {
            return new RateLimitDecision(true, 0, -1, status, permits == 0 ? 0 : (lease << 32) | permits, now);
        }

        return RateLimitDecision.Denial(statuses[..status], now);
    }

    /// <summary>
    /// The error as reported by <see cref="LastError"/>: a decision whose keys lie in several slots of a Redis Cluster is
    /// a configuration problem with one fix, and says so; anything else is reported as it is.
    /// </summary>
    private Exception Explain(Exception error)
    {
        var crossSlot = error is RedisCommandException && error.Message.Contains("single slot", StringComparison.Ordinal)
            || error is RedisServerException && error.Message.StartsWith("CROSSSLOT", StringComparison.Ordinal);
        return crossSlot
            ? new InvalidOperationException(
                $"Redis is a cluster and the keys of one decision lie in several hash slots: Sluice:Redis:KeyPrefix ('{_options.KeyPrefix}') "
                + "must contain a hash tag, such as '{sluice}:', so that every key shares one slot. Until then decisions fall back.", error)
            : error;
    }

    private RateLimitDecision Fallback(ReadOnlyMemory<LayerKey> layers, Memory<RateStatus> statuses, long cost, Exception? error, string reason)
    {
        s_fallbacks.Add(1, new KeyValuePair<string, object?>("reason", reason));
        Interlocked.Increment(ref _fallbacks);
        LastError = error ?? LastError;
        if (_options.FailureMode == RedisFailureMode.FailClosed)
        {
            var retryAfter = _breaker.IsOpen ? _breaker.RetryAfter : _options.BreakDuration;
            throw new RateLimitStoreUnavailableException("Redis is unavailable and the store fails closed.", retryAfter, error);
        }

        var decision = _fallback.Acquire(layers.Span, statuses.Span, cost);

        // Mark local leases so that their release goes to the local store.
        return decision.LeaseId == 0
            ? decision
            : new RateLimitDecision(true, 0, -1, decision.StatusCount, decision.LeaseId | long.MinValue, decision.DecidedAtMicros);
    }
}
