using Sluice.Quotas;
using Xunit;

namespace Sluice.Testing;

/// <summary>
/// The behaviour every <see cref="QuotaStore"/> must have. Each store's test class supplies a fresh store on a clock
/// that starts at <see cref="ManualTimeProvider.DefaultStart"/> (the 1st of a month, midnight UTC).
/// </summary>
public abstract class QuotaStoreContractTests
{
    protected ManualTimeProvider Time { get; } = new(ManualTimeProvider.DefaultStart.AddDays(14));

    /// <summary>A fresh, empty store reading <see cref="Time"/>.</summary>
    protected abstract Task<QuotaStore> CreateAsync();

    private static QuotaRequest Recipient(string item, long limit = 3, string subject = "acct-1")
        => new("recipients", subject, item, limit, QuotaPeriod.Month);

    [Fact]
    public async Task ANewItem_IsCharged_AndCountsOnce()
    {
        var store = await CreateAsync();

        var first = await store.ChargeAsync(Recipient("a@example.com"));
        var again = await store.ChargeAsync(Recipient("a@example.com"));

        Assert.Equal(QuotaOutcome.Charged, first.Outcome);
        Assert.Equal(1, first.Used);
        Assert.Equal(QuotaOutcome.AlreadyCounted, again.Outcome);
        Assert.Equal(1, again.Used);
        Assert.Equal(2, again.Remaining);
    }

    [Fact]
    public async Task NewItemsPastTheLimit_AreRefused_WithoutCharging_WhileCountedItemsStillPass()
    {
        var store = await CreateAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(QuotaOutcome.Charged, (await store.ChargeAsync(Recipient($"r{i}@example.com"))).Outcome);
        }

        var refused = await store.ChargeAsync(Recipient("new@example.com"));
        var counted = await store.ChargeAsync(Recipient("r1@example.com"));
        var usage = await store.GetUsageAsync("recipients", "acct-1", 3, QuotaPeriod.Month);

        Assert.Equal(QuotaOutcome.Exceeded, refused.Outcome);
        Assert.False(refused.IsAllowed);
        Assert.Equal(3, refused.Used);
        Assert.Equal(0, refused.Remaining);
        Assert.Equal(QuotaOutcome.AlreadyCounted, counted.Outcome);
        Assert.Equal(3, usage.Used);
    }

    [Fact]
    public async Task QuotasAndSubjectsThatJoinToTheSameText_KeepTheirOwnCounts()
    {
        var store = await CreateAsync();

        var first = await store.ChargeAsync(new QuotaRequest("emails:daily", "42", "a", 1, QuotaPeriod.Month));
        var second = await store.ChargeAsync(new QuotaRequest("emails", "daily:42", "b", 1, QuotaPeriod.Month));
        var third = await store.ChargeAsync(new QuotaRequest("sms\\", ":42", "c", 1, QuotaPeriod.Month));
        var fourth = await store.ChargeAsync(new QuotaRequest("sms:", "42", "d", 1, QuotaPeriod.Month));

        Assert.All([first, second, third, fourth], d => Assert.Equal(QuotaOutcome.Charged, d.Outcome));
    }

    [Fact]
    public async Task OneQuotaCountedByMonthAndByDay_KeepsTwoCounts()
    {
        var store = await CreateAsync();

        var monthly = await store.ChargeAsync(new QuotaRequest("sends", "acct-1", "a", 5, QuotaPeriod.Month));
        var daily = await store.ChargeAsync(new QuotaRequest("sends", "acct-1", "b", 5, QuotaPeriod.Day));
        var monthlyAgain = await store.ChargeAsync(new QuotaRequest("sends", "acct-1", "a", 5, QuotaPeriod.Month));
        var month = await store.GetUsageAsync("sends", "acct-1", 5, QuotaPeriod.Month);
        var day = await store.GetUsageAsync("sends", "acct-1", 5, QuotaPeriod.Day);

        Assert.Equal(QuotaOutcome.Charged, monthly.Outcome);
        Assert.Equal(QuotaOutcome.Charged, daily.Outcome);
        Assert.Equal(QuotaOutcome.AlreadyCounted, monthlyAgain.Outcome);
        Assert.Equal(1, month.Used);
        Assert.Equal(1, day.Used);
    }

    [Fact]
    public async Task TheDecision_ReportsTheFirstOfNextMonth_AsTheReset()
    {
        var store = await CreateAsync();

        var decision = await store.ChargeAsync(Recipient("a@example.com"));

        Assert.Equal(new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero), decision.ResetsAt);
    }

    [Fact]
    public async Task Usage_StartsAgainFromZero_OnTheFirstOfTheMonth()
    {
        var store = await CreateAsync();
        for (var i = 0; i < 3; i++)
        {
            await store.ChargeAsync(Recipient($"r{i}@example.com"));
        }

        Time.SetUtcNow(new DateTimeOffset(2026, 6, 30, 23, 59, 59, TimeSpan.Zero));
        var lastSecond = await store.ChargeAsync(Recipient("late@example.com"));
        Time.SetUtcNow(new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero));
        var nextMonth = await store.ChargeAsync(Recipient("r0@example.com"));
        var usage = await store.GetUsageAsync("recipients", "acct-1", 3, QuotaPeriod.Month);

        Assert.Equal(QuotaOutcome.Exceeded, lastSecond.Outcome);
        Assert.Equal(QuotaOutcome.Charged, nextMonth.Outcome);
        Assert.Equal(1, usage.Used);
        Assert.Equal(new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero), usage.ResetsAt);
    }

    [Fact]
    public async Task DailyQuotas_ResetAtMidnightUtc()
    {
        var store = await CreateAsync();
        var request = new QuotaRequest("exports", "acct-1", "x", 1, QuotaPeriod.Day);

        var first = await store.ChargeAsync(request);
        var refused = await store.ChargeAsync(request with { Item = "y" });
        Time.Advance(TimeSpan.FromDays(1));
        var tomorrow = await store.ChargeAsync(request with { Item = "y" });

        Assert.Equal(QuotaOutcome.Charged, first.Outcome);
        Assert.Equal(QuotaOutcome.Exceeded, refused.Outcome);
        Assert.Equal(QuotaOutcome.Charged, tomorrow.Outcome);
    }

    [Fact]
    public async Task SubjectsAndQuotas_NeverShareUsage()
    {
        var store = await CreateAsync();
        await store.ChargeAsync(Recipient("a@example.com", limit: 1, subject: "acct-1"));

        var otherSubject = await store.ChargeAsync(Recipient("b@example.com", limit: 1, subject: "acct-2"));
        var otherQuota = await store.ChargeAsync(new QuotaRequest("exports", "acct-1", "b@example.com", 1, QuotaPeriod.Month));

        Assert.Equal(QuotaOutcome.Charged, otherSubject.Outcome);
        Assert.Equal(QuotaOutcome.Charged, otherQuota.Outcome);
    }

    [Fact]
    public async Task ALimitRaisedMidMonth_AppliesAtOnce_AndKeepsUsage()
    {
        var store = await CreateAsync();
        await store.ChargeAsync(Recipient("a@example.com", limit: 1));
        Assert.False((await store.ChargeAsync(Recipient("b@example.com", limit: 1))).IsAllowed);

        var raised = await store.ChargeAsync(Recipient("b@example.com", limit: 5));

        Assert.Equal(QuotaOutcome.Charged, raised.Outcome);
        Assert.Equal(2, raised.Used);
    }

    [Fact]
    public async Task AZeroLimit_RefusesEveryNewItem()
    {
        var store = await CreateAsync();

        Assert.Equal(QuotaOutcome.Exceeded, (await store.ChargeAsync(Recipient("a@example.com", limit: 0))).Outcome);
    }

    [Fact]
    public async Task ThirtyConcurrentNewItems_WithTenLeft_ChargeExactlyTen()
    {
        var store = await CreateAsync();
        for (var i = 0; i < 40; i++)
        {
            await store.ChargeAsync(Recipient($"old{i}@example.com", limit: 50));
        }

        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 30)
            .Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await store.ChargeAsync(Recipient($"new{i}@example.com", limit: 50));
            }))
            .ToArray();
        start.Set();
        var decisions = await Task.WhenAll(tasks);

        Assert.Equal(10, decisions.Count(d => d.Outcome == QuotaOutcome.Charged));
        Assert.Equal(20, decisions.Count(d => d.Outcome == QuotaOutcome.Exceeded));
        Assert.Equal(50, (await store.GetUsageAsync("recipients", "acct-1", 50, QuotaPeriod.Month)).Used);
    }

    [Fact]
    public async Task TheSameNewItemCharged_Concurrently_CountsOnce()
    {
        var store = await CreateAsync();

        var decisions = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => store.ChargeAsync(Recipient("same@example.com")).AsTask())));

        Assert.Equal(1, decisions.Count(d => d.Outcome == QuotaOutcome.Charged));
        Assert.Equal(15, decisions.Count(d => d.Outcome == QuotaOutcome.AlreadyCounted));
        Assert.Equal(1, (await store.GetUsageAsync("recipients", "acct-1", 3, QuotaPeriod.Month)).Used);
    }

    [Fact]
    public async Task Usage_OfAnUnknownSubject_IsZero()
    {
        var store = await CreateAsync();

        var usage = await store.GetUsageAsync("recipients", "nobody", 50, QuotaPeriod.Month);

        Assert.Equal(0, usage.Used);
        Assert.Equal(50, usage.Remaining);
    }

    [Fact]
    public async Task Items_AreComparedOrdinally()
    {
        var store = await CreateAsync();
        await store.ChargeAsync(Recipient("a@example.com"));

        Assert.Equal(QuotaOutcome.Charged, (await store.ChargeAsync(Recipient("A@example.com"))).Outcome);
    }

    [Fact]
    public async Task ABatch_IsChargedAsIfOneItemAfterAnother()
    {
        var store = await CreateAsync();
        await store.ChargeAsync(Recipient("old@example.com", limit: 3));

        var decisions = await store.ChargeManyAsync(
        [
            Recipient("a@example.com"), Recipient("old@example.com"), Recipient("a@example.com"), Recipient("b@example.com"), Recipient("c@example.com"),
            Recipient("b@example.com"), Recipient("x@example.com", subject: "acct-2"),
        ]);

        Assert.Equal(
            [QuotaOutcome.Charged, QuotaOutcome.AlreadyCounted, QuotaOutcome.AlreadyCounted, QuotaOutcome.Charged, QuotaOutcome.Exceeded, QuotaOutcome.AlreadyCounted, QuotaOutcome.Charged],
            decisions.Select(d => d.Outcome));
        Assert.Equal([2L, 2, 2, 3, 3, 3, 1], decisions.Select(d => d.Used));
        Assert.Equal(3, (await store.GetUsageAsync("recipients", "acct-1", 3, QuotaPeriod.Month)).Used);
        Assert.Equal(1, (await store.GetUsageAsync("recipients", "acct-2", 3, QuotaPeriod.Month)).Used);
    }

    [Fact]
    public async Task ARefund_TakesBackACountedItem_AndFreesItsPlace()
    {
        var store = await CreateAsync();
        await store.ChargeAsync(Recipient("a@example.com", limit: 1));

        var refunded = await store.RefundAsync(Recipient("a@example.com", limit: 1));
        var usage = await store.GetUsageAsync("recipients", "acct-1", 1, QuotaPeriod.Month);
        var another = await store.ChargeAsync(Recipient("b@example.com", limit: 1));

        Assert.True(refunded);
        Assert.Equal(0, usage.Used);
        Assert.Equal(QuotaOutcome.Charged, another.Outcome);
    }

    [Fact]
    public async Task RefundingAnItemNotCounted_ChangesNothing()
    {
        var store = await CreateAsync();
        await store.ChargeAsync(Recipient("a@example.com"));

        var refunded = await store.RefundAsync(Recipient("never@example.com"));

        Assert.False(refunded);
        Assert.Equal(1, (await store.GetUsageAsync("recipients", "acct-1", 3, QuotaPeriod.Month)).Used);
    }

    [Fact]
    public async Task AnEmptyBatch_ChargesNothing()
    {
        var store = await CreateAsync();

        Assert.Empty(await store.ChargeManyAsync([]));
    }

    [Fact]
    public async Task ConcurrentBatches_WithTenLeft_ChargeExactlyTen()
    {
        var store = await CreateAsync();
        for (var i = 0; i < 5; i++)
        {
            await store.ChargeAsync(Recipient($"old{i}@example.com", limit: 15));
        }

        var batches = await Task.WhenAll(Enumerable.Range(0, 3).Select(b => Task.Run(() =>
            store.ChargeManyAsync(Enumerable.Range(0, 10).Select(i => Recipient($"new{b}-{i}@example.com", limit: 15)).ToList()).AsTask())));

        Assert.Equal(10, batches.Sum(decisions => decisions.Count(d => d.Outcome == QuotaOutcome.Charged)));
        Assert.Equal(15, (await store.GetUsageAsync("recipients", "acct-1", 15, QuotaPeriod.Month)).Used);
    }

    [Fact]
    public async Task BadArguments_AreRefused_AsArgumentErrors()
    {
        var store = await CreateAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ChargeAsync(Recipient("")).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ChargeAsync(Recipient("a", limit: -1)).AsTask());
    }
}
