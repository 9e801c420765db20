namespace Sluice.Server.Certificates;

/// <summary>What happened to one row of a bulk upload: <c>issued</c> with its certificate, or <c>refused</c> with a code.</summary>
public sealed record BulkRowResult(int Row, string Status, CertificateResponse? Certificate, string? Code, string? Detail);
