using Microsoft.AspNetCore.Http;
using Sluice.AspNetCore.Middleware;

namespace Sluice.AspNetCore.Tests.Middleware;

public sealed class OptionsEqualityTests
{
    private static SluiceOptions Options(Action<SluiceOptions>? change = null)
    {
        var options = new SluiceOptions();
        options.ClientIp.TrustedProxies.Add("10.0.0.0/8");
        options.Layers["ip"] = new SluiceLayerOptions { Key = "Ip", Rates = ["100/min"] };
        options.Layers["key"] = new SluiceLayerOptions { Key = "ApiKey", Rates = ["2/s", "15/min"], Headline = true };
        options.KeySelectors["custom"] = Custom;
        change?.Invoke(options);
        return options;
    }

    private static string? Custom(HttpContext context) => "x";

    private static string? Other(HttpContext context) => "y";

    [Fact]
    public void OptionsBuiltAlike_AreTheSame_WhateverTheOrderOfTheirLayers()
    {
        var reordered = new SluiceOptions();
        reordered.ClientIp.TrustedProxies.Add("10.0.0.0/8");
        reordered.Layers["key"] = new SluiceLayerOptions { Key = "ApiKey", Rates = ["2/s", "15/min"], Headline = true };
        reordered.Layers["ip"] = new SluiceLayerOptions { Key = "Ip", Rates = ["100/min"] };
        reordered.KeySelectors["custom"] = Custom;

        Assert.True(OptionsEquality.Same(Options(), Options()));
        Assert.True(OptionsEquality.Same(Options(), reordered));
    }

    public static TheoryData<string, Action<SluiceOptions>> Changes => new()
    {
        { "a rate", o => o.Layers["key"].Rates[1] = "16/min" },
        { "the order of the rates", o => o.Layers["key"].Rates = ["15/min", "2/s"] },
        { "one more rate", o => o.Layers["ip"].Rates.Add("1000/h") },
        { "a layer's flag", o => o.Layers["ip"].Shadow = true },
        { "a nullable value", o => o.Layers["ip"].Burst = 5 },
        { "a nested setting", o => o.ClientIp.GroupIPv6By64 = true },
        { "a nested list", o => o.ClientIp.TrustedProxies.Add("192.168.0.0/16") },
        { "one more layer", o => o.Layers["auth"] = new SluiceLayerOptions() },
        { "a key selector", o => o.KeySelectors["custom"] = Other },
        { "a delegate set", o => o.Cost = _ => 2 },
        { "a top-level value", o => o.RejectionStatusCode = 503 },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void AnyChange_MakesThemDiffer(string change, Action<SluiceOptions> apply)
    {
        Assert.False(OptionsEquality.Same(Options(), Options(apply)), change);
    }
}
