namespace Sluice.Client.Dns;

/// <summary>An RRset as the server returns it (deSEC's shape).</summary>
public sealed record RRset(string Domain, string Subname, string Name, string Type, int Ttl, IReadOnlyList<string> Records, DateTimeOffset? Created, DateTimeOffset? Touched);
