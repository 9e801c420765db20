namespace Sluice.Server.Admin;

/// <summary>A new key; <paramref name="Key"/> is the secret, shown only in this response.</summary>
public sealed record KeyCreatedResponse(long Id, string Key, long AccountId, DateTimeOffset CreatedAt);
