namespace Sluice.Server.Certificates;

/// <summary>The <c>Certificates</c> section: request body sizes of the CertDirectory API.</summary>
public sealed class BulkUploadOptions
{
    /// <summary>The most any body size limit may be: a body is read into one buffer.</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>The largest bulk CSV body accepted; larger ones get 413. The default value is 1 MiB.</summary>
    public long BulkMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The largest JSON body the CertDirectory and admin APIs read (a certificate, the public auth request, an admin
    /// change); larger ones get 413 <c>PAYLOAD_TOO_LARGE</c> before they are parsed. The default value is 64 KiB.
    /// </summary>
    public long JsonMaxBytes { get; set; } = 64 * 1024;

    /// <summary>Every problem with these options, with its configuration path.</summary>
    public List<string> Validate()
    {
        var problems = new List<string>();
        if (BulkMaxBytes is < 1 or > MaxBytes)
        {
            problems.Add($"Certificates:BulkMaxBytes is {BulkMaxBytes}; it must be between 1 and {MaxBytes} (1 GiB).");
        }

        if (JsonMaxBytes is < 1 or > MaxBytes)
        {
            problems.Add($"Certificates:JsonMaxBytes is {JsonMaxBytes}; it must be between 1 and {MaxBytes} (1 GiB).");
        }

        return problems;
    }
}
