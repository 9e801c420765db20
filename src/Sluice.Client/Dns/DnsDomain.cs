namespace Sluice.Client.Dns;

/// <summary>A domain as the server returns it (deSEC's shape).</summary>
public sealed record DnsDomain(string Name, int MinimumTtl, DateTimeOffset Created, DateTimeOffset? Touched);
