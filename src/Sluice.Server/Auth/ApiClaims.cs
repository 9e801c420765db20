namespace Sluice.Server.Auth;

/// <summary>The claims an authenticated API key gives a request.</summary>
internal static class ApiClaims
{
    public const string Scheme = "ApiKey";

    /// <summary>The key's id: what the <c>api-key</c> rate-limit layer is keyed by (never the secret).</summary>
    public const string KeyId = "key_id";

    public const string AccountId = "account_id";
}
