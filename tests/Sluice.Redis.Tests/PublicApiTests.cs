namespace Sluice.Redis.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApi_IsTheOneReviewedInTheApiFile() => PublicApi.AssertReviewed(typeof(Sluice.Redis.RedisRateLimitStore).Assembly);
}
