using Microsoft.AspNetCore.Http;
using Sluice.AspNetCore.Keys;
using Sluice.AspNetCore.Middleware;

namespace Sluice.AspNetCore.Tests.Middleware;

public sealed class KeySelectionTests
{
    [Fact]
    public void LayersSharingASelector_ReadItOnce_AndShareOneKeyString()
    {
        var ip = new CountingSelector(() => new string('a', 3));
        var apiKey = new CountingSelector(() => "key");
        var plan = Plan(Layer("global-ip", ip), Layer("api-key", apiKey), Layer("auth", ip));
        var selected = new LayerKey[3];

        var count = SluiceMiddleware.SelectKeys(Post(), plan, selected);

        Assert.Equal(3, count);
        Assert.Equal(1, ip.Calls);
        Assert.Equal(1, apiKey.Calls);
        Assert.Same(selected[0].Key, selected[2].Key);
        Assert.Equal(["global-ip", "api-key", "auth"], selected.Select(s => s.Layer.Name));
    }

    [Fact]
    public void ALayerSharingASelector_WithAnEarlierLayerThatDoesNotApply_ReadsItItself()
    {
        var ip = new CountingSelector(() => "10.0.0.1");
        var plan = Plan(Layer("reads", ip, SluiceMethodClass.Read), Layer("auth", ip));
        var selected = new LayerKey[2];

        var count = SluiceMiddleware.SelectKeys(Post(), plan, selected);

        Assert.Equal(1, count);
        Assert.Equal(1, ip.Calls);
        Assert.Equal("auth", selected[0].Layer.Name);
    }

    [Fact]
    public void AnAbsentKey_LeavesOutEveryLayerSharingItsSelector_AfterOneRead()
    {
        var apiKey = new CountingSelector(() => null);
        var ip = new CountingSelector(() => "10.0.0.1");
        var plan = Plan(Layer("api-key", apiKey), Layer("global-ip", ip), Layer("api-key-writes", apiKey));
        var selected = new LayerKey[3];

        var count = SluiceMiddleware.SelectKeys(Post(), plan, selected);

        Assert.Equal(1, count);
        Assert.Equal(1, apiKey.Calls);
        Assert.Equal("global-ip", selected[0].Layer.Name);
    }

    private static CompiledLayer Layer(string name, RequestKeySelector selector, SluiceMethodClass methods = SluiceMethodClass.All)
        => new(RateLimitLayer.FixedWindow(name, Rate.Parse("10/min")), selector, SluiceLayerScope.Global, methods, []);

    private static EndpointPlan Plan(params CompiledLayer[] layers) => new(false, layers, null, null);

    private static DefaultHttpContext Post()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        return context;
    }

    private sealed class CountingSelector(Func<string?> key) : RequestKeySelector
    {
        public int Calls { get; private set; }

        public override string? Select(HttpContext context)
        {
            Calls++;
            return key();
        }
    }
}
