using Sluice.Server.Data;

namespace Sluice.Server.Dns;

/// <summary>An RRset in deSEC's shape; <paramref name="Name"/> is the fully qualified owner name with its trailing dot.</summary>
public sealed record RRsetResponse(DateTimeOffset Created, string Domain, string Subname, string Name, string Type, IReadOnlyList<string> Records, int Ttl, DateTimeOffset? Touched)
{
    internal static RRsetResponse From(RRset r, string domain)
        => new(r.Created, domain, r.Subname, (r.Subname.Length == 0 ? domain : r.Subname + "." + domain) + ".", r.Type, r.Records.Split('\n'), r.Ttl, r.Touched);
}
