using System.Security.Cryptography;
using System.Text;

namespace Sluice.Server.Auth;

/// <summary>Makes secrets (API keys, admin tokens) and the hashes stored in their place.</summary>
internal static class Secrets
{
    /// <summary>A new secret: <paramref name="prefix"/> followed by 32 random bytes in URL-safe base64.</summary>
    public static string Create(string prefix)
        => prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>SHA-256 of the secret's UTF-8 bytes: what the database holds.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Compares two hashes in time that does not depend on where they differ.</summary>
    public static bool HashEquals(byte[] a, byte[] b) => CryptographicOperations.FixedTimeEquals(a, b);
}
