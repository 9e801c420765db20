namespace Sluice.Server.Data;

/// <summary>
/// A row whose id grows with every insert and never changes: ordering by it is ordering by creation, which is how deSEC
/// lists domains and RRsets (newest first).
/// </summary>
public interface ICreatedInOrder
{
    /// <summary>The row's id, assigned by the database on insert.</summary>
    long Id { get; }
}
