namespace Sluice.Server.Data;

/// <summary>A DNS zone owned by an account (deSEC's domain).</summary>
public sealed class Domain : ICreatedInOrder
{
    public long Id { get; set; }

    public long AccountId { get; set; }

    /// <summary>The zone name, lower case, without the trailing dot.</summary>
    public required string Name { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset? Touched { get; set; }
}
