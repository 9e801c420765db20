using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests.Keys;

public sealed class ApiKeyTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Sluice:Layers:api-key:Key"] = "ApiKey",
        ["Sluice:Layers:api-key:Rates:0"] = "1/min",
    };

    private static async Task<HttpResponseMessage> Get(TestApp app, string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ping");
        request.Headers.TryAddWithoutValidation(header, value);
        return await app.Client.SendAsync(request);
    }

    [Fact]
    public async Task BearerTokenAndXApiKey_NameTheSameKey()
    {
        await using var app = await TestApp.StartAsync(Settings);

        var bearer = await Get(app, "Authorization", "Bearer abc123");
        var token = await Get(app, "Authorization", "Token abc123");
        var header = await Get(app, "X-API-Key", "abc123");
        var other = await Get(app, "X-API-Key", "zzz");

        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, token.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, header.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task AKeyOver256Characters_ReachesTheStoreAsItsSha256_AndIsStillLimitedAndOverriddenAsItself()
    {
        var recorder = new RecordingStore(new MemoryRateLimitStore(new MemoryRateLimitStoreOptions { TimeProvider = new ManualTimeProvider() }));
        await using var app = await TestApp.StartAsync(Settings, services: s => s.AddKeyedSingleton<RateLimitStore>("Memory", recorder));
        var huge = new string('k', 20_000);
        var other = new string('k', 19_999) + "j";
        var exactly256 = new string('q', 256);

        var first = await Get(app, "X-API-Key", huge);
        var second = await Get(app, "Authorization", "Bearer " + huge);
        var anotherHugeKey = await Get(app, "X-API-Key", other);
        await Get(app, "X-API-Key", exactly256);
        await app.App.Services.GetRequiredService<SluiceLimits>().SetOverrideAsync("api-key", huge, ["5/min"]);
        var raised = await Get(app, "X-API-Key", huge);
        var usage = await app.App.Services.GetRequiredService<SluiceLimits>().GetUsageAsync("api-key", huge);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK, HttpStatusCode.OK], new[] { first, second, anotherHugeKey, raised }.Select(r => r.StatusCode));
        Assert.Equal(3, usage.Single().Remaining);
        var sha = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(huge)));
        Assert.Contains(sha, recorder.Keys);
        Assert.Contains(exactly256, recorder.Keys);
        Assert.All(recorder.Keys, k => Assert.True(k.Length <= 256, $"a key of {k.Length} characters reached the store"));
    }

    [Fact]
    public async Task ARequestWithoutAKey_SkipsTheLayer()
    {
        await using var app = await TestApp.StartAsync(Settings);

        var responses = new[] { await app.GetAsync("/ping"), await app.GetAsync("/ping"), await Get(app, "Authorization", "Basic dXNlcjpwYXNz") };

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(responses, r => Assert.False(r.Headers.Contains("X-RateLimit-Limit")));
    }

    [Fact]
    public async Task AnExemptKey_SkipsTheLayerAndItsHeaders_WhileOtherLayersStillApply()
    {
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Sluice:Layers:api-key:Exempt:0"] = "internal-batch",
            ["Sluice:Layers:global-ip:Key"] = "Ip",
            ["Sluice:Layers:global-ip:Rates:0"] = "3/min",
        };
        await using var app = await TestApp.StartAsync(settings);

        var exempt = new[] { await Get(app, "X-API-Key", "internal-batch"), await Get(app, "Authorization", "Bearer internal-batch"), await Get(app, "X-API-Key", "internal-batch") };
        var byIp = await Get(app, "X-API-Key", "internal-batch");
        var otherCase = new[] { await app.GetAsync("/ping", "Internal-Batch", "192.0.2.50"), await app.GetAsync("/ping", "Internal-Batch", "192.0.2.50") };

        Assert.All(exempt, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(exempt, r => Assert.False(r.Headers.Contains("X-RateLimit-Limit")));
        Assert.Equal(HttpStatusCode.TooManyRequests, byIp.StatusCode);
        Assert.Contains("\"layer\":\"global-ip\"", await byIp.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, otherCase[0].StatusCode);
        Assert.Equal("1", otherCase[0].Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, otherCase[1].StatusCode);
        Assert.Contains("\"layer\":\"api-key\"", await otherCase[1].Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnExemptionAddedWhileRunning_AppliesToTheNextRequest()
    {
        await using var app = await TestApp.StartAsync(Settings);
        var before = new[] { await Get(app, "X-API-Key", "nightly"), await Get(app, "X-API-Key", "nightly") };

        app.Reconfigure(new Dictionary<string, string?> { ["Sluice:Layers:api-key:Exempt:0"] = "nightly" });
        var after = await Get(app, "X-API-Key", "nightly");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests], before.Select(r => r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.False(after.Headers.Contains("X-RateLimit-Limit"));
    }
}
