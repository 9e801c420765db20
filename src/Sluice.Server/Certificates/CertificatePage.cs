namespace Sluice.Server.Certificates;

/// <summary>One page of <c>GET /api/certificates</c>, newest first.</summary>
public sealed record CertificatePage(IReadOnlyList<CertificateResponse> Items, int Page, int PageSize, int Total, string? Next);
