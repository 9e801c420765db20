namespace Sluice.RateLimiting;

/// <summary>One layer of a <see cref="SluicePartitionedRateLimiter{TResource}"/> and how a resource finds its key in it.</summary>
/// <typeparam name="TResource">What the limiter is asked about: an <c>HttpContext</c>, a request message, a tenant.</typeparam>
/// <param name="Layer">The layer.</param>
/// <param name="KeySelector">
/// The resource's partition in the layer (an IP, an API key, a domain); <see langword="null"/> when the layer does not
/// apply to this resource. A key over 256 characters reaches the store as its SHA-256.
/// </param>
public sealed record SluiceResourceLayer<TResource>(RateLimitLayer Layer, Func<TResource, string?> KeySelector);
