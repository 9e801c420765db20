namespace Sluice.Client.Dns;

/// <summary>Options of <see cref="DnsBulkWriter"/>.</summary>
public sealed class DnsBulkWriterOptions
{
    /// <summary>How long the first write to a domain waits for others to join its bulk request. The default value is 250 milliseconds.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The most RRsets in one bulk request; a full batch is sent at once. The default value is 100.</summary>
    public int MaxBatch { get; set; } = 100;

    /// <summary>The clock behind <see cref="MaxWait"/>. The default value is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
