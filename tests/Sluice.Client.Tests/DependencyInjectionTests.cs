using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

namespace Sluice.Client.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddSluiceClient_PutsTheHandlerInTheClientsPipeline_WithItsNamedOptions()
    {
        var time = new ManualTimeProvider();
        var registry = new PacerRegistry();
        var server = new ScriptedServer(time);
        server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "2"));
        var services = new ServiceCollection();
        services.AddHttpClient("desec", c => c.BaseAddress = new Uri("http://api.test/"))
            .ConfigurePrimaryHttpMessageHandler(() => server)
            .AddSluiceClient(o =>
            {
                o.Registry = registry;
                o.TimeProvider = time;
                o.WriteRates.Add(ClientRate.Parse("2/s"));
            });
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        var first = factory.CreateClient("desec").GetAsync("api/v1/domains/example.com/");
        while (time.PendingTimers == 0)
        {
            await Task.Delay(5);
        }

        // The second client's request waits on the same scope's pacer: a timer of its own, and nothing sent.
        var second = factory.CreateClient("desec").GetAsync("api/v1/domains/example.com/rrsets/");
        var waited = Environment.TickCount64 + 10_000;
        while (time.PendingTimers < 2 && !second.IsCompleted && Environment.TickCount64 < waited)
        {
            await Task.Delay(5);
        }

        Assert.Equal(2, time.PendingTimers);
        Assert.Single(server.Received);
        time.Advance(TimeSpan.FromSeconds(3.1));
        await Task.WhenAll(first, second);

        Assert.Equal(3, server.Received.Count);
        Assert.True(server.Received[1].At - server.Received[0].At >= TimeSpan.FromSeconds(2));
        Assert.Contains("http://api.test|read|example.com", registry.Scopes);
    }

    [Fact]
    public void AddSluiceClient_LiftsHttpClientsDefaultTimeoutFromTheWholeRequest_AndKeepsOneSetOnPurpose()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("default").AddSluiceClient();
        services.AddHttpClient("chosen", c => c.Timeout = TimeSpan.FromSeconds(30)).AddSluiceClient();
        services.AddHttpClient("chosen-after").AddSluiceClient().ConfigureHttpClient(c => c.Timeout = TimeSpan.FromMinutes(20));
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        Assert.Equal(Timeout.InfiniteTimeSpan, factory.CreateClient("default").Timeout);
        Assert.Equal(TimeSpan.FromSeconds(30), factory.CreateClient("chosen").Timeout);
        Assert.Equal(TimeSpan.FromMinutes(20), factory.CreateClient("chosen-after").Timeout);
    }
}
