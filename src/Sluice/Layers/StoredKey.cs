using System.Security.Cryptography;
using System.Text;

namespace Sluice;

/// <summary>
/// The form in which a request's key reaches the store, in the ASP.NET Core integration and the
/// <c>System.Threading.RateLimiting</c> adapters alike. A key of at most <see cref="MaxLength"/> characters goes as it
/// is; a longer one (a client can send kilobytes of API key, header or route value) goes as <c>sha256:</c> and the 64
/// hex digits of the SHA-256 of its UTF-8 bytes, so that what the store holds per key stays small whatever clients send.
/// A key that merely looks like such a digest is digested too, so every stored key of that form is one this class made
/// (and a log may show a prefix of it without showing a client's own text).
/// </summary>
internal static class StoredKey
{
    /// <summary>The longest key kept as it is: 256 characters.</summary>
    public const int MaxLength = 256;

    private const string Prefix = "sha256:";

    public static string Of(string key) => key.Length > MaxLength || IsDigest(key) ? Digest(key) : key;

    /// <summary>Whether <paramref name="key"/> has the form of a digest (the length is compared first, so other keys pay one comparison).</summary>
    public static bool IsDigest(string key) => key.Length == Prefix.Length + 64 && key.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary><c>sha256:</c> and the 64 hex digits of the SHA-256 of the key's UTF-8 bytes.</summary>
    public static string Digest(string key) => Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
