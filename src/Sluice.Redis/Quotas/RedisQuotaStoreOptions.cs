namespace Sluice.Quotas;

/// <summary>Options of <see cref="RedisQuotaStore"/>.</summary>
public sealed class RedisQuotaStoreOptions
{
    /// <summary>The StackExchange.Redis configuration string. The default value is <c>127.0.0.1:6379</c>.</summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>Prefix of every key the store writes. The default value is <c>sluice:</c>.</summary>
    public string KeyPrefix { get; set; } = "sluice:";

    /// <summary>How long one charge may take before it is reported as unavailable. The default value is 1 second.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a period's set outlives the period, so usage can still be read just after a reset. The default value is
    /// 1 day.
    /// </summary>
    public TimeSpan RetainAfterPeriod { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Where periods come from. The default value is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
