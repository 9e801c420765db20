namespace Sluice.Server.Auth;

/// <summary>The hash of the admin token, resolved at startup (from <c>Admin:Token</c>, or generated once and stored).</summary>
internal sealed class AdminToken
{
    private byte[] _hash = [];

    public void Set(byte[] hash) => _hash = hash;

    /// <summary>True if <paramref name="token"/> is the admin token, compared in constant time.</summary>
    public bool Matches(string token) => _hash.Length > 0 && token.Length > 0 && Secrets.HashEquals(_hash, Secrets.Hash(token));
}
