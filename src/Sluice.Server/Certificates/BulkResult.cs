namespace Sluice.Server.Certificates;

/// <summary>The answer to a bulk upload: counts, then one entry per data row in file order.</summary>
public sealed record BulkResult(int Issued, int Refused, IReadOnlyList<BulkRowResult> Rows);
