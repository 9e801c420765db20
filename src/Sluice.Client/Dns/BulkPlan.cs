namespace Sluice.Client.Dns;

/// <summary>
/// Merges the writes of one batch by (subname, type), because the server refuses duplicates in one request: the later
/// write wins, keeping the earlier TTL when the later gives none. Every caller of a merged RRset gets its result.
/// </summary>
internal static class BulkPlan
{
    public static List<(RRsetWrite Write, List<TaskCompletionSource<RRset?>> Callers)> Merge(IEnumerable<PendingWrite> writes)
    {
        var merged = new List<(RRsetWrite Write, List<TaskCompletionSource<RRset?>> Callers)>();
        var index = new Dictionary<(string, string), int>();
        foreach (var pending in writes)
        {
            if (index.TryGetValue(pending.Write.Key, out var at))
            {
                var earlier = merged[at];
                var write = pending.Write with { Ttl = pending.Write.Ttl ?? earlier.Write.Ttl };
                earlier.Callers.Add(pending.Completion);
                merged[at] = (write, earlier.Callers);
            }
            else
            {
                index[pending.Write.Key] = merged.Count;
                merged.Add((pending.Write, [pending.Completion]));
            }
        }

        return merged;
    }
}
