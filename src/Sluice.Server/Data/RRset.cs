namespace Sluice.Server.Data;

/// <summary>The records of one (subname, type) in a domain (deSEC's RRset). Records are kept in order, one per line.</summary>
public sealed class RRset : ICreatedInOrder
{
    public long Id { get; set; }

    public long DomainId { get; set; }

    /// <summary>The name below the domain; empty for the apex.</summary>
    public required string Subname { get; set; }

    public required string Type { get; set; }

    public int Ttl { get; set; }

    /// <summary>The records' presentation forms, joined by newlines.</summary>
    public required string Records { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset? Touched { get; set; }
}
