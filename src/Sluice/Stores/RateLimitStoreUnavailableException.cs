namespace Sluice;

/// <summary>
/// A store configured to fail closed could not decide (its backend is down or too slow). Not a denial: the HTTP
/// integration answers 503 with <see cref="RetryAfter"/>. A store that fails open never throws this; it decides
/// with a local fallback instead.
/// </summary>
public sealed class RateLimitStoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="retryAfter">When the store will try its backend again.</param>
    /// <param name="innerException">The backend's error, if any.</param>
    public RateLimitStoreUnavailableException(string message, TimeSpan retryAfter, Exception? innerException = null)
        : base(message, innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>When the store will try its backend again.</summary>
    public TimeSpan RetryAfter { get; }
}
