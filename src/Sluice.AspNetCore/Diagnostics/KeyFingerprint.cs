namespace Sluice.AspNetCore.Diagnostics;

/// <summary>
/// How logs name a key that may be a credential: <c>sha256:</c> and the first 12 hex digits of the SHA-256 of its
/// UTF-8 bytes. Stable across instances and restarts, so an operator can match it against the key's own hash, and
/// useless for sending requests as that client.
/// </summary>
internal static class KeyFingerprint
{
    /// <summary>The fingerprint's length: <c>sha256:</c> and 12 hex digits.</summary>
    public const int Length = 19;

    /// <summary>The fingerprint of a key as the store got it (<see cref="StoredKey.Of"/>): a digest there is already the SHA-256 of the client's key.</summary>
    public static string Of(string storedKey) => (StoredKey.IsDigest(storedKey) ? storedKey : StoredKey.Digest(storedKey))[..Length];
}
