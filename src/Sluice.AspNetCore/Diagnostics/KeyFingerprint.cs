using System.Security.Cryptography;
using System.Text;

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

    public static string Of(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];
}
