namespace Sluice.Tests.Memory;

public sealed class MemoryRateLimitStoreContractTests : RateLimitStoreContractTests
{
    protected override Task<StoreHarness> CreateAsync()
    {
        var clock = new ManualTimeProvider();
        return Task.FromResult(new StoreHarness(new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = clock }), clock));
    }
}
