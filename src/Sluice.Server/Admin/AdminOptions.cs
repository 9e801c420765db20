namespace Sluice.Server.Admin;

/// <summary>The <c>Admin</c> section, bound only to check it: a misspelt key (<c>Admin:Tokn</c>) is reported, not ignored.</summary>
public sealed class AdminOptions
{
    /// <summary>The admin token; empty to have one generated at the first start and printed once.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>Every problem with these settings.</summary>
    public List<string> Validate()
        => Token.Length > 0 && Token.Trim().Length < 12
            ? ["Admin:Token is shorter than 12 characters; use a long random secret, or leave it empty to have one generated."]
            : [];
}
