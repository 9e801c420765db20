namespace Sluice.Server.Dns;

/// <summary>The <c>Dns</c> section: bounds of the deSEC-style DNS API.</summary>
public sealed class DnsOptions
{
    /// <summary>The smallest TTL accepted, in seconds. The default value is 3600 (deSEC's default minimum).</summary>
    public int MinimumTtl { get; set; } = 3600;

    /// <summary>The largest TTL accepted, in seconds. The default value is 604800 (one week).</summary>
    public int MaximumTtl { get; set; } = 604_800;

    /// <summary>How long a write waits for an earlier write to the same domain before it is throttled. The default value is 5 seconds.</summary>
    public TimeSpan WriteWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most RRsets one bulk request may carry. The default value is 1000.</summary>
    public int MaxBulkItems { get; set; } = 1000;

    /// <summary>
    /// The largest request body a DNS endpoint reads, in bytes; a larger one is answered 413 before it is parsed. The
    /// default value is 4 MiB: a bulk request of <see cref="MaxBulkItems"/> RRsets with a few kilobytes of records each.
    /// </summary>
    public long MaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The most domains or RRsets one list answers (deSEC's page size). A longer list needs the <c>cursor</c> parameter:
    /// without it the list is refused with 400 and a <c>Link</c> to its first page. The default value is 500, as on deSEC.
    /// </summary>
    public int PageSize { get; set; } = 500;

    /// <summary>Every problem with these options, with its configuration path.</summary>
    public List<string> Validate()
    {
        var problems = new List<string>();
        if (MinimumTtl < 1)
        {
            problems.Add($"Dns:MinimumTtl is {MinimumTtl}; it must be at least 1.");
        }

        if (MaximumTtl < MinimumTtl)
        {
            problems.Add($"Dns:MaximumTtl is {MaximumTtl}; it must not be below Dns:MinimumTtl ({MinimumTtl}).");
        }

        if (WriteWait < TimeSpan.Zero || WriteWait > TimeSpan.FromHours(1))
        {
            // Past about 24.8 days the wait would fail every write; far sooner, every HTTP client has given up.
            problems.Add($"Dns:WriteWait is {WriteWait}; it must be between 0 and 1 hour.");
        }

        if (MaxBulkItems < 1)
        {
            problems.Add($"Dns:MaxBulkItems is {MaxBulkItems}; it must be at least 1.");
        }

        if (PageSize is < 1 or > 10_000)
        {
            problems.Add($"Dns:PageSize is {PageSize}; it must be between 1 and 10000.");
        }

        if (MaxBodyBytes is < 1 or > Certificates.BulkUploadOptions.MaxBytes)
        {
            // The body is read into one buffer.
            problems.Add($"Dns:MaxBodyBytes is {MaxBodyBytes}; it must be between 1 and {Certificates.BulkUploadOptions.MaxBytes} (1 GiB).");
        }

        return problems;
    }
}
