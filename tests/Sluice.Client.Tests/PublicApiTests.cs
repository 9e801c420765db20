namespace Sluice.Client.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApi_IsTheOneReviewedInTheApiFile() => PublicApi.AssertReviewed(typeof(Sluice.Client.SluiceClientHandler).Assembly);
}
