using Sluice.Client;

namespace Sluice.Cli.Acme;

/// <summary>
/// The least wall time a run can take under the server's limits: its requests sent one after another (each waits for
/// the previous answer), none earlier than the rates allow (an exact sliding log: at most the limit in any period), each
/// taking the round trip it really took. So the gap to the wall time is what the client itself added: waiting longer
/// than the limits require, retries, and its own work between requests.
/// </summary>
internal static class TheoreticalMinimum
{
    public static TimeSpan Of(int count, IReadOnlyList<ClientRate> rates, TimeSpan roundTrip)
        => Of(Enumerable.Repeat(roundTrip, count).ToList(), rates);

    /// <summary>The same for requests whose round trips are given one by one.</summary>
    public static TimeSpan Of(IReadOnlyList<TimeSpan> roundTrips, IReadOnlyList<ClientRate> rates)
    {
        var count = roundTrips.Count;
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
            ready = at + roundTrips[i];
        }

        return ready;
    }
}
