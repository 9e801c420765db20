using System.Threading.RateLimiting;

namespace Sluice.RateLimiting;

/// <summary>
/// Metadata that the leases of <see cref="SluiceRateLimiter"/> and <see cref="SluicePartitionedRateLimiter{TResource}"/>
/// carry besides the standard <see cref="MetadataName.RetryAfter"/> and <see cref="MetadataName.ReasonPhrase"/>.
/// </summary>
public static class SluiceMetadataNames
{
    /// <summary>On a denied lease: the name of the layer whose rate decided the retry-after.</summary>
    public static MetadataName<string> Layer { get; } = MetadataName.Create<string>("SLUICE_LAYER");

    /// <summary>
    /// On every lease the store decided: one status per rate in force, layer by layer (limit, remaining, reset and, when
    /// denied, each rate's own wait), to write rate-limit headers from.
    /// </summary>
    public static MetadataName<IReadOnlyList<RateStatus>> Statuses { get; } = MetadataName.Create<IReadOnlyList<RateStatus>>("SLUICE_STATUSES");
}
