namespace Sluice;

/// <summary>One layer that applies to a request, with the partition key the request belongs to in that layer.</summary>
/// <param name="Layer">The layer.</param>
/// <param name="Key">The partition: an IP, an API key, an account, a domain. Compared ordinally.</param>
public readonly record struct LayerKey(RateLimitLayer Layer, string Key);
