namespace Sluice.Client.Dns;

/// <summary>
/// One RRset to write, in deSEC's shape. Empty <see cref="Records"/> deletes the RRset; a null <see cref="Ttl"/> keeps the
/// current one (PATCH). <see cref="Subname"/> is empty for the apex.
/// </summary>
public sealed record RRsetWrite(string Subname, string Type, int? Ttl, IReadOnlyList<string> Records)
{
    /// <summary>The (subname, type) an RRset is identified by, normalised as the server does.</summary>
    public (string Subname, string Type) Key => (Subname.ToLowerInvariant(), Type.ToUpperInvariant());
}
