using Sluice.Redis.Keys;
using StackExchange.Redis;

namespace Sluice.Quotas;

/// <summary>
/// A quota store in Redis, shared by every instance: one Redis set per subject and period holds the counted items, and
/// each charge is one Lua script, so concurrent charges from any number of instances are exact.
/// </summary>
/// <remarks>
/// Keys are <c>{KeyPrefix}quota:{quota}:{subject}:{period}</c> (a backslash or colon in the quota name escaped with a backslash) and expire <see cref="RedisQuotaStoreOptions.RetainAfterPeriod"/>
/// after their period ends, so Redis holds only current usage. Redis persistence (RDB/AOF) decides durability. Unlike
/// the rate-limit store there is no local fallback: a quota is paid usage, so an unreachable Redis is reported with
/// <see cref="QuotaStoreUnavailableException"/> and the caller decides (the reference server answers 503).
/// </remarks>
public sealed class RedisQuotaStore : QuotaStore, IDisposable
{
    private const string ChargeScript = """
        if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
          return {1, redis.call('SCARD', KEYS[1])}
        end
        local used = redis.call('SCARD', KEYS[1])
        if used + 1 > tonumber(ARGV[2]) then
          return {2, used}
        end
        redis.call('SADD', KEYS[1], ARGV[1])
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        return {0, used + 1}
        """;

    private static readonly TimeSpan FirstConnectTimeout = TimeSpan.FromSeconds(5);

    private const string ChargeManyScript = """
        local used = redis.call('SCARD', KEYS[1])
        local reply = {}
        local added = false
        for n = 2, #ARGV, 2 do
          local outcome = 0
          if redis.call('SISMEMBER', KEYS[1], ARGV[n]) == 1 then
            outcome = 1
          elseif used + 1 > tonumber(ARGV[n + 1]) then
            outcome = 2
          else
            redis.call('SADD', KEYS[1], ARGV[n])
            used = used + 1
            added = true
          end
          reply[#reply + 1] = outcome
          reply[#reply + 1] = used
        end
        if added then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
        return reply
        """;

    private readonly RedisQuotaStoreOptions _options;
    private readonly Task<ConnectionMultiplexer> _connecting;
    private readonly bool _ownsConnection;

    /// <summary>Connects to <see cref="RedisQuotaStoreOptions.Configuration"/> in the background; the constructor never blocks.</summary>
    public RedisQuotaStore(RedisQuotaStoreOptions options)
        : this(options, null)
    {
    }

    /// <summary>Uses <paramref name="connection"/> when given (shared with other stores; not disposed here), else connects.</summary>
    public RedisQuotaStore(RedisQuotaStoreOptions options, ConnectionMultiplexer? connection)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Configuration, nameof(options.Configuration));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Timeout, TimeSpan.Zero, nameof(options.Timeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RetainAfterPeriod, TimeSpan.Zero, nameof(options.RetainAfterPeriod));
        _options = options;
        if (connection is null)
        {
            var configuration = ConfigurationOptions.Parse(options.Configuration);
            configuration.AbortOnConnectFail = false;
            configuration.SyncTimeout = (int)options.Timeout.TotalMilliseconds;
            _connecting = ConnectionMultiplexer.ConnectAsync(configuration);
            _ownsConnection = true;
        }
        else
        {
            _connecting = Task.FromResult(connection);
        }
    }

    /// <inheritdoc />
    public override async ValueTask<QuotaDecision> ChargeAsync(QuotaRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        var now = _options.TimeProvider.GetUtcNow();
        var resets = request.Period.ResetAfter(now);

        // A relative TTL, so a Redis clock that disagrees with ours cannot expire a live period early.
        var ttlSeconds = (long)Math.Ceiling((resets - now + _options.RetainAfterPeriod).TotalSeconds);
        var result = (RedisResult[])(await RunAsync(
            db => db.ScriptEvaluateAsync(ChargeScript, [Key(request.Quota, request.Subject, request.Period, now)], [request.Item, request.Limit, ttlSeconds]),
            cancellationToken).ConfigureAwait(false))!;
        var outcome = (int)result[0] switch
        {
            0 => QuotaOutcome.Charged,
            1 => QuotaOutcome.AlreadyCounted,
            _ => QuotaOutcome.Exceeded,
        };
        return new QuotaDecision(outcome, request.Limit, (long)result[1], resets);
    }

    /// <summary>Charges the batch with one script call per subject and period, each item as if charged on its own, in order.</summary>
    public override async ValueTask<IReadOnlyList<QuotaDecision>> ChargeManyAsync(IReadOnlyList<QuotaRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        foreach (var request in requests)
        {
            Validate(request);
        }

        var now = _options.TimeProvider.GetUtcNow();
        var decisions = new QuotaDecision[requests.Count];
        foreach (var group in Enumerable.Range(0, requests.Count).GroupBy(n => Key(requests[n].Quota, requests[n].Subject, requests[n].Period, now), StringComparer.Ordinal))
        {
            var indexes = group.ToList();
            var period = requests[indexes[0]].Period;
            var resets = period.ResetAfter(now);
            var ttlSeconds = (long)Math.Ceiling((resets - now + _options.RetainAfterPeriod).TotalSeconds);
            var values = new RedisValue[1 + (2 * indexes.Count)];
            values[0] = ttlSeconds;
            for (var k = 0; k < indexes.Count; k++)
            {
                values[1 + (2 * k)] = requests[indexes[k]].Item;
                values[2 + (2 * k)] = requests[indexes[k]].Limit;
            }

            var reply = (RedisResult[])(await RunAsync(db => db.ScriptEvaluateAsync(ChargeManyScript, [group.Key], values), cancellationToken).ConfigureAwait(false))!;
            for (var k = 0; k < indexes.Count; k++)
            {
                var outcome = (int)reply[2 * k] switch
                {
                    0 => QuotaOutcome.Charged,
                    1 => QuotaOutcome.AlreadyCounted,
                    _ => QuotaOutcome.Exceeded,
                };
                decisions[indexes[k]] = new QuotaDecision(outcome, requests[indexes[k]].Limit, (long)reply[(2 * k) + 1], resets);
            }
        }

        return decisions;
    }

    /// <inheritdoc />
    public override async ValueTask<bool> RefundAsync(QuotaRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        var now = _options.TimeProvider.GetUtcNow();
        return await RunAsync(db => db.SetRemoveAsync(Key(request.Quota, request.Subject, request.Period, now), request.Item), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<QuotaUsage> GetUsageAsync(string quota, string subject, long limit, QuotaPeriod period, CancellationToken cancellationToken = default)
    {
        var now = _options.TimeProvider.GetUtcNow();
        var used = await RunAsync(db => db.SetLengthAsync(Key(quota, subject, period, now)), cancellationToken).ConfigureAwait(false);
        return new QuotaUsage(limit, used, period.ResetAfter(now));
    }

    /// <summary>Closes the connection if the store opened it.</summary>
    public void Dispose()
    {
        if (_ownsConnection)
        {
            _connecting.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    private async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            // The first connection may take longer than one operation's timeout; it is paid once.
            var connection = await _connecting.WaitAsync(Max(_options.Timeout, FirstConnectTimeout), cancellationToken).ConfigureAwait(false);
            return await operation(connection.GetDatabase()).WaitAsync(_options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or RedisCommandException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new QuotaStoreUnavailableException($"The Redis quota store failed: {e.Message}", e);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private string Key(string quota, string subject, QuotaPeriod period, DateTimeOffset now)
        => $"{_options.KeyPrefix}quota:{KeyPart.Escaped(quota)}:{subject}:{period.NameOf(now)}";
}
