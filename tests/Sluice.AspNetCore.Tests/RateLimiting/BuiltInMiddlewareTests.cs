using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.RateLimiting;

namespace Sluice.AspNetCore.Tests.RateLimiting;

/// <summary>Sluice's limiters inside ASP.NET Core's own rate-limiting middleware (<c>AddRateLimiter</c>/<c>UseRateLimiter</c>).</summary>
public sealed class BuiltInMiddlewareTests
{
    private readonly MemoryRateLimitStore _store = new(new MemoryRateLimitStoreOptions { TimeProvider = new ManualTimeProvider() });

    [Fact]
    public async Task AsTheGlobalLimiter_TheBuiltInMiddlewareDeniesWithSluicesRetryAfterAndStatuses()
    {
        var ip = RateLimitLayer.FixedWindow("ip", Rate.Parse("2/min"));
        var auth = RateLimitLayer.FixedWindow("auth", Rate.Parse("5/15min"));
        await using var app = await StartAsync(options =>
        {
            options.GlobalLimiter = new SluicePartitionedRateLimiter<HttpContext>(
                _store,
                [
                    new(ip, c => c.Connection.RemoteIpAddress?.ToString()),
                    new(auth, c => c.Request.Path.StartsWithSegments("/auth") ? c.Connection.RemoteIpAddress?.ToString() : null),
                ]);
        });
        var client = app.GetTestClient();

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            codes.Add((await client.GetAsync("/auth/login")).StatusCode);
        }

        var denied = await client.GetAsync("/auth/login");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], codes);
        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        Assert.Equal("60", denied.Headers.GetValues("Retry-After").Single());
        Assert.Equal("ip", denied.Headers.GetValues("X-Sluice-Layer").Single());
        Assert.Equal("2,0;5,3", denied.Headers.GetValues("X-Limits").Single());
    }

    [Fact]
    public async Task InAPartitionOfAPolicy_EachKeyHasItsOwnLimitInTheSharedStore()
    {
        var layer = RateLimitLayer.FixedWindow("api-key", Rate.Parse("1/min"));
        await using var app = await StartAsync(options => options.AddPolicy("per-key", context =>
        {
            var key = context.Request.Headers["X-API-Key"].ToString();
            return RateLimitPartition.Get(key, k => new SluiceRateLimiter(_store, [layer.For(k)]));
        }));
        var client = app.GetTestClient();

        var first = await SendAsync(client, "key-1");
        var again = await SendAsync(client, "key-1");
        var other = await SendAsync(client, "key-2");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(0, new SluiceRateLimiter(_store, [layer.For("key-1")]).GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task WithTheStoreFromTheContainer_TheBuiltInMiddlewareChargesSluicesStore()
    {
        var layer = RateLimitLayer.FixedWindow("ip", Rate.Parse("2/min"));
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(new ManualTimeProvider());
        builder.Services.AddSluice(_ => { });
        builder.Services.AddRateLimiter(o => o.RejectionStatusCode = StatusCodes.Status429TooManyRequests);
        builder.Services.AddOptions<RateLimiterOptions>().Configure<RateLimitStore>((o, store) =>
            o.GlobalLimiter = new SluicePartitionedRateLimiter<HttpContext>(store, [new(layer, c => "192.0.2.1")]));
        await using var app = builder.Build();
        app.UseRateLimiter();
        app.MapGet("/ping", () => "pong");
        await app.StartAsync();
        var client = app.GetTestClient();

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            codes.Add((await client.GetAsync("/ping")).StatusCode);
        }

        await using var usage = await app.Services.GetRequiredService<RateLimitStore>().AcquireAsync(0, layer.For("192.0.2.1"));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], codes);
        Assert.Equal(0, usage.Statuses.Single().Remaining);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/keyed");
        request.Headers.Add("X-API-Key", key);
        return client.SendAsync(request);
    }

    private static async Task<WebApplication> StartAsync(Action<RateLimiterOptions> limits)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) =>
            {
                var lease = context.Lease;
                if (lease.TryGetMetadata(MetadataName.RetryAfter, out var wait))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }

                if (lease.TryGetMetadata(SluiceMetadataNames.Layer, out var layer))
                {
                    context.HttpContext.Response.Headers["X-Sluice-Layer"] = layer;
                }

                if (lease.TryGetMetadata(SluiceMetadataNames.Statuses, out var statuses))
                {
                    context.HttpContext.Response.Headers["X-Limits"] = string.Join(';', statuses!.Select(s => $"{s.Limit},{s.Remaining}"));
                }

                return ValueTask.CompletedTask;
            };
            limits(options);
        });
        var app = builder.Build();
        app.Use((context, next) =>
        {
            context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.1");
            return next(context);
        });
        app.UseRouting();
        app.UseRateLimiter();
        app.MapGet("/auth/login", () => "ok");
        app.MapGet("/keyed", () => "ok").RequireRateLimiting("per-key");
        await app.StartAsync();
        return app;
    }
}
