namespace Sluice.AspNetCore.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApi_IsTheOneReviewedInTheApiFile() => PublicApi.AssertReviewed(typeof(Sluice.AspNetCore.SluiceOptions).Assembly);
}
