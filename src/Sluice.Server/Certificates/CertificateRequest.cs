using Sluice.Server.Api;

namespace Sluice.Server.Certificates;

/// <summary>The body of <c>POST /api/certificates</c>.</summary>
/// <param name="RecipientEmail">Where the certificate goes; counted once per month against the quota.</param>
/// <param name="RecipientName">The name printed on the certificate.</param>
/// <param name="Course">What the certificate is for.</param>
public sealed record CertificateRequest(string? RecipientEmail, string? RecipientName, string? Course)
{
    /// <summary>The first invalid field and why, or null when the request is valid.</summary>
    public (string Field, string Message)? Validate()
    {
        if (string.IsNullOrWhiteSpace(RecipientEmail))
        {
            return ("recipient_email", "recipient_email is required.");
        }

        if (!IsEmail(RecipientEmail.Trim()))
        {
            return ("recipient_email", $"'{Echo.Of(RecipientEmail)}' is not an e-mail address.");
        }

        if (string.IsNullOrWhiteSpace(RecipientName))
        {
            return ("recipient_name", "recipient_name is required.");
        }

        if (PrintedText.Problem("recipient_name", RecipientName) is { } nameProblem)
        {
            return nameProblem;
        }

        if (string.IsNullOrWhiteSpace(Course))
        {
            return ("course", "course is required.");
        }

        return PrintedText.Problem("course", Course);
    }

    internal static bool IsEmail(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        return text.Length <= 254 && at > 0 && at == text.LastIndexOf('@') && at < text.Length - 1
            && text.IndexOf('.', at) > at + 1 && !text.EndsWith('.') && !text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));
    }
}
