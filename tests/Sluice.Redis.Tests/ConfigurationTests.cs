using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sluice.Redis.Tests;

public sealed class ConfigurationTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task AddSluiceRedis_BindsSluiceRedis_AndRegistersTheRedisStoreAndItsHealthCheck()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sluice:Redis:Configuration"] = $"127.0.0.1:{redis.Port}",
            // Generous: a binding test, not a timing one. In the test host the first commands of a new connection were
            // measured to wait about 0.8 s for the thread pool, and a loaded CI machine once took longer than 2 s.
            ["Sluice:Redis:Timeout"] = "00:00:10",
            ["Sluice:Redis:FailureMode"] = "FailClosed",
            ["Sluice:Redis:KeyPrefix"] = "configured:",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSluiceRedis(configuration.GetSection("Sluice:Redis"));
        await using var provider = services.BuildServiceProvider();

        var store = Assert.IsType<RedisRateLimitStore>(provider.GetRequiredKeyedService<RateLimitStore>("Redis"));
        var result = await store.AcquireAsync(RateLimitLayer.FixedWindow("ip", Rate.Parse("5/min")).For("k"));
        var health = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(RedisFailureMode.FailClosed, store.FailureMode);
        Assert.True(result.IsAllowed);
        Assert.Equal(0, store.FallbackCount);
        Assert.True(await redis.Admin.GetDatabase().KeyExistsAsync("configured:ip:f:k"));
        Assert.Equal(HealthStatus.Healthy, health.Entries["sluice-redis"].Status);
    }

    [Fact]
    public async Task BadSluiceRedisValues_StopTheStore_WithOneMessageListingEveryProblem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sluice:Redis:Timeout"] = "soon",
            ["Sluice:Redis:FailureMode"] = "Sometimes",
            ["Sluice:Redis:FailuresToBreak"] = "0",
            ["Sluice:Redis:UseServerTime"] = "yes",
            ["Sluice:Redis:Timeot"] = "00:00:01",
            ["Sluice:Redis:Configuration"] = "127.0.0.1:1,password=hunter2,abortConnect=maybe",
            ["Sluice:Redis:OverrideRefreshInterval"] = "100.00:00:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSluiceRedis(configuration.GetSection("Sluice:Redis"));
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<RedisRateLimitStore>());

        Assert.Equal(
            [
                "Sluice:Redis:Configuration is not a StackExchange.Redis configuration string: Keyword 'abortConnect' requires a boolean value",
                "Sluice:Redis:FailureMode 'Sometimes' is not one of FailOpen, FailClosed",
                "Sluice:Redis:FailuresToBreak is 0; it must be at least 1",
                "Sluice:Redis:OverrideRefreshInterval is 100.00:00:00; it must be positive and at most 49 days, the longest a timer waits",
                "Sluice:Redis:Timeot is not a setting; did you mean Timeout?",
                "Sluice:Redis:Timeout 'soon' is not a time span such as 00:00:05",
                "Sluice:Redis:UseServerTime 'yes' is not true or false",
            ],
            error.Failures.Order());
    }

    [Fact]
    public void OptionsSetInCode_ListEveryProblem_IncludingDurationsPastWhatTheStoreCanUse()
    {
        var options = new RedisRateLimitStoreOptions
        {
            KeyPrefix = null!,
            BreakDuration = TimeSpan.MaxValue,
            KeyTtlPadding = TimeSpan.FromSeconds(-1),
            FailureMode = (RedisFailureMode)7,
            TimeProvider = null!,
        };

        Assert.Equal(
            [
                "Sluice:Redis:BreakDuration is 10675199.02:48:05.4775807; it must be positive and at most 49 days",
                "Sluice:Redis:FailureMode 7 is unknown; use FailOpen or FailClosed",
                "Sluice:Redis:KeyPrefix is null",
                "Sluice:Redis:KeyTtlPadding is -00:00:01; it must be between 0 and one day (every key outlives its windows by this much)",
                "Sluice:Redis:TimeProvider is null",
            ],
            options.Validate().Order());
        Assert.Contains("Sluice:Redis:BreakDuration is 00:00:00; it must be positive and at most 49 days", new RedisRateLimitStoreOptions { BreakDuration = TimeSpan.Zero }.Validate());
        Assert.Contains("Sluice:Redis:KeyTtlPadding is 2.00:00:00; it must be between 0 and one day (every key outlives its windows by this much)", new RedisRateLimitStoreOptions { KeyTtlPadding = TimeSpan.FromDays(2) }.Validate());
    }
}
