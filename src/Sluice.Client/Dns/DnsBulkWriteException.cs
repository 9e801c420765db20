namespace Sluice.Client.Dns;

/// <summary>Some writes of a <see cref="DnsBatch"/> were refused; <see cref="Failures"/> says which and why. The others were applied.</summary>
public sealed class DnsBulkWriteException(IReadOnlyList<(string Domain, RRsetWrite Write, Exception Error)> failures)
    : Exception($"{failures.Count} RRset write(s) were refused: " + string.Join("; ", failures.Select(f => $"{f.Write.Subname}/{f.Write.Type} in {f.Domain}: {f.Error.Message}")))
{
    /// <summary>The refused writes with their errors.</summary>
    public IReadOnlyList<(string Domain, RRsetWrite Write, Exception Error)> Failures { get; } = failures;
}
