using Sluice.Redis.Reloads;

namespace Sluice.Redis.Tests.Reloads;

public sealed class ReloadHistoryTests
{
    private const long Minute = 60_000_000;
    private const long Hour = 60 * Minute;

    // A whole hour, so that window ends below are easy to read.
    private const long Start = 493_000 * Hour;

    private static RateLimitLayer Fixed(string rate) => RateLimitLayer.FixedWindow("api-key", Rate.Parse(rate));

    [Fact]
    public void ANewerLayerObjectWithOtherPeriods_BecomesAHop_ThatOnlyTheNewestObjectSends()
    {
        var history = new ReloadHistory();
        var perMinute = Fixed("10/min");
        var perHour = Fixed("100/h");

        var before = history.HopsFor(perMinute, Start);
        var hops = history.HopsFor(perHour, Start + Minute);
        var older = history.HopsFor(perMinute, Start + Minute);

        Assert.Null(before);
        Assert.NotNull(hops);
        Assert.Equal([Start + Minute], hops.At);
        Assert.Equal([Minute], hops.From[0]);
        Assert.Equal(Start + Hour, hops.Horizon);
        Assert.Null(older);
    }

    [Fact]
    public void Hops_AreSentUntilAMinutePastTheWindowsOfTheirMoment_ThenNoMore()
    {
        var history = new ReloadHistory();
        history.HopsFor(Fixed("10/min"), Start);
        var perHour = Fixed("100/h");
        history.HopsFor(perHour, Start + Minute);

        Assert.NotNull(history.HopsFor(perHour, Start + Hour + Minute - 1));
        Assert.Null(history.HopsFor(perHour, Start + Hour + Minute));
    }

    [Fact]
    public void ANewerObjectWithTheSamePeriods_KeepsTheHops()
    {
        var history = new ReloadHistory();
        history.HopsFor(Fixed("10/min"), Start);
        var first = history.HopsFor(Fixed("100/h"), Start + Minute);

        var limitRaised = history.HopsFor(Fixed("200/h"), Start + (2 * Minute));

        Assert.NotNull(limitRaised);
        Assert.Equal(first!.At, limitRaised.At);
    }

    [Fact]
    public void AHopWhoseWindowsEndedBeforeTheNextReload_IsDropped_AndAtMostEightAreKept()
    {
        var history = new ReloadHistory();
        history.HopsFor(Fixed("10/min"), Start);

        // A minute's window ends long before the reload two hours later: that hop can no longer carry anything.
        history.HopsFor(Fixed("100/h"), Start + Minute);
        history.HopsFor(Fixed("10/min"), Start + (2 * Hour));
        var afterGap = history.HopsFor(Fixed("100/h"), Start + (2 * Hour) + 1);

        // Ten quick reloads within one minute's window: every hop still matters, and only the newest eight are kept.
        ReloadHops? many = null;
        for (var i = 0; i < 10; i++)
        {
            many = history.HopsFor(Fixed(i % 2 == 0 ? "10/min" : "100/h"), Start + (3 * Hour) + i);
        }

        Assert.Equal([Start + (2 * Hour), Start + (2 * Hour) + 1], afterGap!.At);
        Assert.Equal(ReloadHistory.MaxHops, many!.Count);
        Assert.Equal(Start + (3 * Hour) + 9, many.At[^1]);
    }

    [Fact]
    public void AHopAfterAMarkWasHandedOut_ComesStrictlyAfterIt_EvenInTheSameMicrosecond()
    {
        var history = new ReloadHistory();
        var perMinute = Fixed("10/min");
        history.HopsFor(perMinute, Start);

        var mark = history.MarkFor(perMinute, Start + 5);
        var hops = history.HopsFor(Fixed("100/h"), Start + 5);

        Assert.Equal(Start + 5, mark);
        Assert.Equal([Start + 6], hops!.At);
    }
}
