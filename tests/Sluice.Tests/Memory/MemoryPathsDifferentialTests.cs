namespace Sluice.Tests.Memory;

/// <summary>
/// The in-memory store's fast paths (one layer; up to four one-rate layers) against its general path, on seeded
/// random traffic: the same decision, status by status.
/// </summary>
public sealed class MemoryPathsDifferentialTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 48)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task RandomTraffic_GetsTheSameDecisionFromTheFastAndGeneralPaths(int seed)
    {
        foreach (var layers in new[] { StoreDifferential.Mixed, StoreDifferential.OneRate })
        {
            var clock = new ManualTimeProvider();
            var fast = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock });
            var general = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock, GeneralPathOnly = true });

            await StoreDifferential.RunAsync(general, fast, clock, seed, steps: 3000, layers);
        }
    }
}
