namespace Sluice.Quotas;

/// <summary>Options of <see cref="SqliteQuotaStore"/>.</summary>
public sealed class SqliteQuotaStoreOptions
{
    /// <summary>The Microsoft.Data.Sqlite connection string, such as <c>Data Source=sluice.db</c>. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Prefix of the store's two tables (<c>{prefix}quota_items</c>, <c>{prefix}quota_usage</c>). The default value is <c>sluice_</c>.</summary>
    public string TablePrefix { get; set; } = "sluice_";

    /// <summary>
    /// How long the counted items and usage of a period are kept after the period ends; then a charge (at most once an
    /// hour) or <see cref="SqliteQuotaStore.PruneAsync"/> deletes them. The default value, <see langword="null"/>, keeps
    /// them forever as a record of what was charged. Must not be negative.
    /// </summary>
    public TimeSpan? RetainAfterPeriod { get; set; }

    /// <summary>Where periods come from. The default value is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
