namespace Sluice.Client.Tests;

public sealed class PacerRegistryTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static readonly Func<TimeSpan, TimeSpan> NoMargin = _ => TimeSpan.Zero;

    [Fact]
    public void ScopesIdleForTheTimeout_AreDropped_SoMemoryFollowsTheScopesInUse()
    {
        var registry = new PacerRegistry(TimeSpan.FromHours(1));
        for (var i = 0; i < 10_000; i++)
        {
            registry.GetOrAdd($"https://api.example|write|domain{i}.example", [new ClientRate(2, TimeSpan.FromSeconds(1))], NoMargin, Start).Reserve(Start);
        }

        var held = registry.Scopes.Count;
        registry.GetOrAdd("https://api.example|write|domain0.example", [], NoMargin, Start.AddMinutes(59)).Reserve(Start.AddMinutes(59));
        var beforeTheHour = registry.Scopes.Count;
        // Looked for at most every quarter of the timeout: gone between 60 and 75 minutes after their last use.
        registry.GetOrAdd("https://api.example|write|other.example", [], NoMargin, Start.AddMinutes(75));

        Assert.Equal(10_000, held);
        Assert.Equal(10_000, beforeTheHour);
        Assert.Equal(["https://api.example|write|domain0.example", "https://api.example|write|other.example"], registry.Scopes.Order());
    }

    [Fact]
    public void AScopeStillPausedOrWhoseRatesStillCountASend_IsKept_AndKeepsPacing()
    {
        var registry = new PacerRegistry(TimeSpan.FromMinutes(1));
        var daily = registry.GetOrAdd("daily", [new ClientRate(1, TimeSpan.FromDays(1))], NoMargin, Start);
        daily.Reserve(Start);
        var paused = registry.GetOrAdd("paused", [], NoMargin, Start);
        paused.PauseUntil(Start.AddHours(2));
        registry.GetOrAdd("gone", [new ClientRate(1, TimeSpan.FromSeconds(1))], NoMargin, Start).Reserve(Start);

        var later = Start.AddHours(1);
        var again = registry.GetOrAdd("daily", [new ClientRate(1, TimeSpan.FromDays(1))], NoMargin, later);

        Assert.Same(daily, again);
        Assert.Same(paused, registry.Find("paused"));
        Assert.Null(registry.Find("gone"));
        Assert.Equal(TimeSpan.FromHours(23), again.Reserve(later));
    }

    [Fact]
    public void TheRegistryWithoutATimeout_KeepsEveryScope_AndABadTimeoutIsRefused()
    {
        var registry = new PacerRegistry(Timeout.InfiniteTimeSpan);
        registry.GetOrAdd("a", [], NoMargin, Start);
        registry.GetOrAdd("b", [], NoMargin, Start.AddYears(1));

        Assert.Equal(2, registry.Scopes.Count);
        Assert.Equal(TimeSpan.FromHours(1), new PacerRegistry().IdleTimeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PacerRegistry(TimeSpan.Zero));
    }
}
