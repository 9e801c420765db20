namespace Sluice.Server.Dns;

/// <summary>The body of <c>POST /api/v1/domains/</c>.</summary>
public sealed record DomainRequest(string? Name);
