using Sluice.Quotas;
using Sluice.Testing;

namespace Sluice.Tests.Quotas;

public sealed class MemoryQuotaStoreContractTests : QuotaStoreContractTests
{
    protected override Task<QuotaStore> CreateAsync() => Task.FromResult<QuotaStore>(new MemoryQuotaStore(Time));
}
