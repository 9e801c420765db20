namespace Sluice.Server.Certificates;

/// <summary>The <c>Certificates</c> section.</summary>
public sealed class BulkUploadOptions
{
    /// <summary>The largest bulk CSV body accepted; larger ones get 413. The default value is 1 MiB.</summary>
    public long BulkMaxBytes { get; set; } = 1024 * 1024;
}
