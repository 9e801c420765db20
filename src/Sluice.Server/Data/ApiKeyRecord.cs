namespace Sluice.Server.Data;

/// <summary>An API key: only the SHA-256 of the secret is stored; the secret is shown once, when the key is created.</summary>
public sealed class ApiKeyRecord
{
    public long Id { get; set; }

    public long AccountId { get; set; }

    /// <summary>SHA-256 of the secret.</summary>
    public required byte[] Hash { get; set; }

    /// <summary>The secret's first characters, to recognise a key in listings.</summary>
    public required string Prefix { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The operator's replacement for the <c>api-key</c> layer's rates, comma-separated; null for the default.</summary>
    public string? RatesOverride { get; set; }
}
