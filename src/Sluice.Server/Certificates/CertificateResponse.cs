using Sluice.Server.Data;

namespace Sluice.Server.Certificates;

/// <summary>A certificate as the API shows it.</summary>
public sealed record CertificateResponse(long Id, string RecipientEmail, string RecipientName, string Course, DateTimeOffset IssuedAt)
{
    internal static CertificateResponse From(Certificate c) => new(c.Id, c.RecipientEmail, c.RecipientName, c.Course, c.IssuedAt);
}
