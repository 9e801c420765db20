using Sluice.Server.Data;

namespace Sluice.Server.Dns;

/// <summary>A domain in deSEC's shape.</summary>
public sealed record DomainResponse(DateTimeOffset Created, DateTimeOffset? Published, string Name, int MinimumTtl, DateTimeOffset? Touched)
{
    internal static DomainResponse From(Domain d, int minimumTtl) => new(d.Created, d.Touched, d.Name, minimumTtl, d.Touched);
}
