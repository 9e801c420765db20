namespace Sluice.Quotas;

/// <summary>The quota's backing store (a database, Redis) failed or timed out; the charge's outcome is unknown.</summary>
public sealed class QuotaStoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QuotaStoreUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public QuotaStoreUnavailableException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the store's own error.</summary>
    public QuotaStoreUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
