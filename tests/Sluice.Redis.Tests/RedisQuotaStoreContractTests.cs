namespace Sluice.Redis.Tests;

/// <summary>The quota contract against a real redis-server.</summary>
public sealed class RedisQuotaStoreContractTests(RedisServer redis) : RedisQuotaStoreContract(redis.Configuration), IClassFixture<RedisServer>;
