using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests.Overrides;

public sealed class SluiceLimitsTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Sluice:Layers:api-key:Key"] = "ApiKey",
        ["Sluice:Layers:api-key:Rates:0"] = "60/min",
    };

    [Fact]
    public async Task AnOverride_RaisesOneKeysLimitAtRunTime_KeepingItsUsage_AndTheHeadersShowIt()
    {
        await using var app = await TestApp.StartAsync(Settings);
        var limits = app.App.Services.GetRequiredService<SluiceLimits>();
        for (var i = 0; i < 60; i++)
        {
            await app.GetAsync("/ping", apiKey: "vip");
        }

        await limits.SetOverrideAsync("api-key", "vip", ["600/min"]);
        var vip = await app.GetAsync("/ping", apiKey: "vip");
        var other = await app.GetAsync("/ping", apiKey: "other");
        await limits.RemoveOverrideAsync("api-key", "vip");
        var restored = await app.GetAsync("/ping", apiKey: "vip");

        Assert.Equal(HttpStatusCode.OK, vip.StatusCode);
        Assert.Equal("600", vip.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("539", vip.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal("60", other.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, restored.StatusCode);
    }

    [Fact]
    public async Task BadOverrides_AreRejectedNamingTheProblem()
    {
        await using var app = await TestApp.StartAsync(Settings);
        var limits = app.App.Services.GetRequiredService<SluiceLimits>();

        var badRate = await Assert.ThrowsAsync<ArgumentException>(async () => await limits.SetOverrideAsync("api-key", "k", ["-5/min"]));
        var badLayer = await Assert.ThrowsAsync<ArgumentException>(async () => await limits.SetOverrideAsync("nope", "k", ["5/min"]));

        Assert.Contains("'-5/min'", badRate.Message);
        Assert.Contains("'nope'", badLayer.Message);
    }
}
