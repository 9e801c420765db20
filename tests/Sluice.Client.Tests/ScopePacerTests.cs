namespace Sluice.Client.Tests;

public sealed class ScopePacerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ARateAboveTheExactLimit_NeverAllowsMoreThanItsLimit_InAnyWindow()
    {
        var rate = new ClientRate(25_000, TimeSpan.FromSeconds(100));
        var pacer = new ScopePacer("s", [rate], _ => TimeSpan.Zero);

        var sends = Enumerable.Range(0, 60_000).Select(_ => (Now + pacer.Reserve(Now)).UtcTicks).ToArray();

        // Every window [t, t + 100 s) that starts at a send holds at most 25,000 sends.
        var most = 0;
        for (int first = 0, last = 0; first < sends.Length; first++)
        {
            while (last < sends.Length && sends[last] < sends[first] + rate.Period.Ticks)
            {
                last++;
            }

            most = Math.Max(most, last - first);
        }

        Assert.InRange(most, 24_000, 25_000);
    }

    [Fact]
    public void WhateverLimitAServerPublishes_TheLogStaysBounded()
    {
        var pacer = new ScopePacer("s", [], _ => TimeSpan.Zero);
        pacer.Learn(new Dictionary<string, ClientRate> { ["huge"] = new(1_000_000_000, TimeSpan.FromDays(1)) });

        for (var i = 0; i < 50_000; i++)
        {
            pacer.Reserve(Now);
        }

        Assert.InRange(pacer.LoggedSends, 1, ScopePacer.MaxExactLimit);
    }

    [Theory]
    [InlineData(10_000, 100, 10_000, 100)]
    [InlineData(10_001, 100, 5_000, 50)]
    [InlineData(25_000, 100, 8_333, 34)]
    public void ALargeRate_IsKeptAsAShorterWindow_ThatCoversItsPeriod(long limit, int seconds, long keptLimit, int keptSeconds)
    {
        var kept = ScopePacer.Enforced(new ClientRate(limit, TimeSpan.FromSeconds(seconds)));

        Assert.Equal(keptLimit, kept.Limit);
        Assert.Equal(keptSeconds, (int)Math.Ceiling(kept.Period.TotalSeconds));
    }

    private static readonly ClientRate[][] RateSets =
    [
        [new(2, TimeSpan.FromSeconds(1)), new(15, TimeSpan.FromMinutes(1)), new(100, TimeSpan.FromHours(1))],
        [new(3, TimeSpan.FromSeconds(2)), new(7, TimeSpan.FromSeconds(10))],
        [new(1, TimeSpan.FromMilliseconds(250)), new(10, TimeSpan.FromSeconds(5))],
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomArrivals_UnderSeveralRates_NeverPutMoreThanALimitInAnyWindow(int seed)
    {
        var random = new Random(seed);
        var rates = RateSets[seed % RateSets.Length];
        var pacer = new ScopePacer("s", rates, _ => TimeSpan.Zero);
        var now = Now;
        var sends = new List<long>();
        for (var i = 0; i < 400; i++)
        {
            now += NextGap(random);
            sends.Add((now + pacer.Reserve(now)).UtcTicks);
        }

        AssertNoWindowOverLimit(sends, rates, seed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void RandomArrivals_WithCallersThatFailFastOrGiveUp_NeverPutMoreThanALimitInAnyWindow(int seed)
    {
        // Callers that fail fast (a wait past their limit reserves nothing) and callers that give up while waiting, or
        // after their send time passed, release their send time; the sends kept must still hold every rate.
        var random = new Random(seed);
        var rates = RateSets[seed % RateSets.Length];
        var pacer = new ScopePacer("s", rates, _ => TimeSpan.Zero);
        var now = Now;
        var kept = new List<long>();
        var refused = 0;
        for (var i = 0; i < 600; i++)
        {
            now += NextGap(random);
            var longest = random.Next(2) == 0 ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(random.Next(0, 5_000));
            if (!pacer.TryReserve(now, longest, out var wait))
            {
                Assert.True(wait > longest);
                refused++;
                continue;
            }

            Assert.True(wait <= longest);
            kept.Add((now + wait).UtcTicks);
            if (random.Next(4) == 0)
            {
                var given = kept[random.Next(kept.Count)];
                pacer.Release(new DateTimeOffset(given, TimeSpan.Zero));
                kept.Remove(given);
            }
        }

        Assert.True(refused > 0, $"seed {seed}: no caller failed fast");
        AssertNoWindowOverLimit(kept, rates, seed);
    }

    private static TimeSpan NextGap(Random random)
        => TimeSpan.FromMilliseconds(random.Next(3) switch { 0 => 0, 1 => random.Next(1, 400), _ => random.Next(400, 20_000) });

    private static void AssertNoWindowOverLimit(List<long> sends, ClientRate[] rates, int seed)
    {
        sends.Sort();
        foreach (var rate in rates)
        {
            for (int first = 0, last = 0; first < sends.Count; first++)
            {
                while (last < sends.Count && sends[last] < sends[first] + rate.Period.Ticks)
                {
                    last++;
                }

                Assert.True(last - first <= rate.Limit, $"seed {seed}: {last - first} sends within {rate} from {new DateTimeOffset(sends[first], TimeSpan.Zero):O}");
            }
        }
    }

    [Fact]
    public void AReservationPastTheLongestWait_ReservesNothing()
    {
        var pacer = new ScopePacer("s", [new ClientRate(1, TimeSpan.FromMinutes(1))], _ => TimeSpan.Zero);
        Assert.True(pacer.TryReserve(Now, TimeSpan.Zero, out _));

        for (var i = 0; i < 10; i++)
        {
            Assert.False(pacer.TryReserve(Now, TimeSpan.FromSeconds(5), out var wait));
            Assert.Equal(TimeSpan.FromMinutes(1), wait);
        }

        Assert.Equal(TimeSpan.FromMinutes(1), pacer.Reserve(Now));
    }

    [Fact]
    public void AReleasedSendTime_IsNoLongerCounted_ButLaterReservationsKeepTheirs()
    {
        var pacer = new ScopePacer("s", [new ClientRate(1, TimeSpan.FromMinutes(1))], _ => TimeSpan.Zero);
        pacer.Reserve(Now);
        var second = pacer.Reserve(Now);
        var third = pacer.Reserve(Now);

        pacer.Release(Now + second);

        Assert.Equal(TimeSpan.FromMinutes(2), third);
        Assert.Equal(TimeSpan.FromMinutes(3), pacer.Reserve(Now));
        pacer.Release(Now + TimeSpan.FromMinutes(3));
        pacer.Release(Now + third);
        Assert.Equal(TimeSpan.FromMinutes(1), pacer.Reserve(Now));
    }
}
