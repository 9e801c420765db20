namespace Sluice.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApi_IsTheOneReviewedInTheApiFile() => PublicApi.AssertReviewed(typeof(Sluice.RateLimitStore).Assembly);
}
