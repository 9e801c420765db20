namespace Sluice.Redis.Tests;

/// <summary>The quota contract on a Redis Cluster (one node serving every slot): each quota script touches one key.</summary>
public sealed class RedisClusterQuotaStoreContractTests(RedisClusterNode cluster) : RedisQuotaStoreContract(cluster.Configuration), IClassFixture<RedisClusterNode>;
