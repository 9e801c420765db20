namespace Sluice.Tests.Memory;

/// <summary>
/// The contract again, with the store's specialised paths (one layer; a few one-rate layers) turned off, so that all
/// three implementations of the decision are held to the same behaviour.
/// </summary>
public sealed class MemoryRateLimitStoreGeneralPathContractTests : RateLimitStoreContractTests
{
    protected override Task<StoreHarness> CreateAsync()
    {
        var clock = new ManualTimeProvider();
        var store = new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock, GeneralPathOnly = true });
        return Task.FromResult(new StoreHarness(store, clock));
    }
}
