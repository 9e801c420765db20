using Sluice.Client;

namespace Sluice.Cli.Acme;

/// <summary>
/// The least wall time a run can take: <c>count</c> requests sent one after another (each waits for the previous
/// answer, one round trip of at least <c>roundTrip</c>), none earlier than the server's rates allow (an exact sliding
/// log: the k-th request within any period at most the limit). The answer is when the last response can arrive.
/// </summary>
internal static class TheoreticalMinimum
{
    public static TimeSpan Of(int count, IReadOnlyList<ClientRate> rates, TimeSpan roundTrip)
    {
        var sent = new List<TimeSpan>();
        var ready = TimeSpan.Zero;
        for (var i = 0; i < count; i++)
        {
            var at = ready;
            foreach (var rate in rates)
            {
                if (sent.Count >= rate.Limit)
                {
                    var bound = sent[sent.Count - (int)rate.Limit] + rate.Period;
                    at = at > bound ? at : bound;
                }
            }

            sent.Add(at);
            ready = at + roundTrip;
        }

        return ready;
    }
}
