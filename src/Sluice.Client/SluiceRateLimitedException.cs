using System.Net;

namespace Sluice.Client;

/// <summary>
/// The request could not be sent or retried before the caller's deadline: the server (or the pacing) requires waiting
/// <see cref="RetryAfter"/>, which would pass it. Thrown instead of waiting in vain.
/// </summary>
public sealed class SluiceRateLimitedException : HttpRequestException
{
    /// <summary>Creates the exception.</summary>
    public SluiceRateLimitedException(string message, TimeSpan retryAfter, HttpStatusCode? statusCode, string scope)
        : base(message, null, statusCode)
    {
        RetryAfter = retryAfter;
        Scope = scope;
    }

    /// <summary>How long from now until the request could be sent.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>The pacing scope the request belongs to.</summary>
    public string Scope { get; }
}
