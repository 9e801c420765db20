using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests.Middleware;

/// <summary>What a trace of the request shows: tags on ASP.NET Core's request activity for denials, shadow denials and an unavailable store.</summary>
public sealed class TracingTests : IDisposable
{
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private readonly ConcurrentDictionary<string, Activity> _requests = new();

    public TracingTests() => ActivitySource.AddActivityListener(_listener);

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task ADenial_TagsTheRequestActivity_WithTheLayerAndTheWait_AndAnAllowedRequestIsNotTagged()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "1/min",
            ["Sluice:Layers:trial:Key"] = "Ip",
            ["Sluice:Layers:trial:Rates:0"] = "1/min",
            ["Sluice:Layers:trial:Shadow"] = "true",
        };
        await using var app = await TestApp.StartAsync(settings, beforeSluice: Capture);

        var allowed = await SendAsync(app, "first");
        var denied = await SendAsync(app, "second");

        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Null(allowed.Activity.GetTagItem("sluice.outcome"));
        Assert.Null(allowed.Activity.GetTagItem("sluice.shadow_denied"));
        Assert.Equal(HttpStatusCode.TooManyRequests, denied.Status);
        Assert.Equal("denied", denied.Activity.GetTagItem("sluice.outcome"));
        Assert.Equal("api-key", denied.Activity.GetTagItem("sluice.layer"));
        Assert.Equal(60, denied.Activity.GetTagItem("sluice.retry_after"));
        Assert.Equal("trial", denied.Activity.GetTagItem("sluice.shadow_denied"));
        Assert.DoesNotContain(denied.Activity.TagObjects, t => t.Value is string s && s.Contains("key-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStoreThatFailsClosed_TagsTheRequestActivity_StoreUnavailable()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sluice:Store"] = "Closed",
            ["Sluice:Layers:api-key:Key"] = "ApiKey",
            ["Sluice:Layers:api-key:Rates:0"] = "1/min",
        };
        var store = new TestFailingStore(new RateLimitStoreUnavailableException("down", TimeSpan.FromSeconds(2.5)));
        await using var app = await TestApp.StartAsync(settings, beforeSluice: Capture, services: s => s.AddKeyedSingleton<RateLimitStore>("Closed", store));

        var refused = await SendAsync(app, "refused");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Equal("store_unavailable", refused.Activity.GetTagItem("sluice.outcome"));
        Assert.Equal(3L, refused.Activity.GetTagItem("sluice.retry_after"));
    }

    private void Capture(WebApplication app) => app.Use((context, next) =>
    {
        if (context.Features.Get<IHttpActivityFeature>()?.Activity is { } activity)
        {
            _requests[context.Request.Headers["X-Test-Request"].ToString()] = activity;
        }

        return next(context);
    });

    private async Task<(HttpStatusCode Status, Activity Activity)> SendAsync(TestApp app, string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ping");
        request.Headers.Add("X-API-Key", "key-1");
        request.Headers.Add("X-Test-Request", name);
        using var response = await app.Client.SendAsync(request);
        return (response.StatusCode, _requests[name]);
    }
}
