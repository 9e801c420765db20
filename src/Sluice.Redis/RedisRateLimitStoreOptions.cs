using StackExchange.Redis;

namespace Sluice.Redis;

/// <summary>Options of the <see cref="RedisRateLimitStore"/>, bound from <c>Sluice:Redis</c>.</summary>
public sealed class RedisRateLimitStoreOptions
{
    /// <summary>The StackExchange.Redis configuration string. The default is <c>127.0.0.1:6379</c>.</summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// Prepended to every key, so that several applications can share one Redis. The default is <c>sluice:</c>. On a Redis
    /// Cluster it must contain a hash tag, such as <c>{sluice}:</c>: one decision's keys must share a hash slot (every key
    /// then lives on the node that owns that slot). Without one, decisions on a cluster fall back, and
    /// <see cref="RedisRateLimitStore.LastError"/> and the health check say why.
    /// </summary>
    public string KeyPrefix { get; set; } = "sluice:";

    /// <summary>How long a decision waits for Redis before it counts as a failure. The default is 250 ms.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>What decisions do while Redis fails. The default is <see cref="RedisFailureMode.FailOpen"/>.</summary>
    public RedisFailureMode FailureMode { get; set; } = RedisFailureMode.FailOpen;

    /// <summary>Consecutive failures after which the store stops asking Redis for <see cref="BreakDuration"/>. The default is 3.</summary>
    public int FailuresToBreak { get; set; } = 3;

    /// <summary>How long the store leaves Redis alone after <see cref="FailuresToBreak"/> failures, before one request probes it again: positive, at most 49 days. The default is 2 seconds.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often each instance re-reads the per-key overrides kept in Redis: an override set on one instance is in
    /// force on every other within this delay (at once on the instance that set it). The default is 1 second.
    /// </summary>
    public TimeSpan OverrideRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether decisions use the Redis server's clock (<c>TIME</c>), so that instances with skewed clocks agree. When
    /// <see langword="false"/>, <see cref="TimeProvider"/> is sent with each decision (tests drive a fake clock). The default is <see langword="true"/>.
    /// </summary>
    public bool UseServerTime { get; set; } = true;

    /// <summary>
    /// Added to every key's TTL beyond the end of its state, covering clock steps between instances (and, in tests,
    /// a fake clock that runs slower than Redis's own): between 0 and one day. The default is 1 second.
    /// </summary>
    public TimeSpan KeyTtlPadding { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The local clock: the fallback store's, the circuit breaker's, and the decisions' when <see cref="UseServerTime"/> is off. The default is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Values the configuration binder could not convert (see <c>AddSluiceRedis</c>), listed first by <see cref="Validate"/>.</summary>
    internal IReadOnlyList<string> BindingProblems { get; set; } = [];

    private static readonly TimeSpan LongestKeyTtlPadding = TimeSpan.FromDays(1);

    /// <summary>Lists every problem; empty when the options are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(BindingProblems);
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            problems.Add("Sluice:Redis:Configuration is empty");
        }
        else
        {
            try
            {
                _ = ConfigurationOptions.Parse(Configuration);
            }
            catch (ArgumentException e)
            {
                // The string itself is not quoted: it may hold a password.
                // StackExchange.Redis 1.2 puts the reason of an out-of-range value in the parameter name.
                var reason = e is ArgumentOutOfRangeException { ParamName: { Length: > 0 } named } ? named : e.Message.Split(" (Parameter")[0];
                problems.Add($"Sluice:Redis:Configuration is not a StackExchange.Redis configuration string: {reason}");
            }
        }

        if (KeyPrefix is null)
        {
            problems.Add("Sluice:Redis:KeyPrefix is null");
        }

        if (Timeout <= TimeSpan.Zero || Timeout > TimerLimits.LongestWait)
        {
            problems.Add($"Sluice:Redis:Timeout is {Timeout}; it must be positive and at most 49 days, the longest a timer waits");
        }

        if (FailuresToBreak < 1)
        {
            problems.Add($"Sluice:Redis:FailuresToBreak is {FailuresToBreak}; it must be at least 1");
        }

        if (BreakDuration <= TimeSpan.Zero || BreakDuration > TimerLimits.LongestWait)
        {
            problems.Add($"Sluice:Redis:BreakDuration is {BreakDuration}; it must be positive and at most 49 days");
        }

        if (KeyTtlPadding < TimeSpan.Zero || KeyTtlPadding > LongestKeyTtlPadding)
        {
            problems.Add($"Sluice:Redis:KeyTtlPadding is {KeyTtlPadding}; it must be between 0 and one day (every key outlives its windows by this much)");
        }

        if (OverrideRefreshInterval <= TimeSpan.Zero || OverrideRefreshInterval > TimerLimits.LongestWait)
        {
            problems.Add($"Sluice:Redis:OverrideRefreshInterval is {OverrideRefreshInterval}; it must be positive and at most 49 days, the longest a timer waits");
        }

        if (!Enum.IsDefined(FailureMode))
        {
            problems.Add($"Sluice:Redis:FailureMode {(int)FailureMode} is unknown; use FailOpen or FailClosed");
        }

        if (TimeProvider is null)
        {
            problems.Add("Sluice:Redis:TimeProvider is null");
        }

        return problems;
    }
}
