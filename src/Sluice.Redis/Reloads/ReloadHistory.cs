using System.Collections.Concurrent;
using Sluice.Algorithms;

namespace Sluice.Redis.Reloads;

/// <summary>
/// Follows the layer objects this instance decides with, per layer name, algorithm and segment count, as the in-memory
/// store's tables do: a newer object (a configuration reload builds new ones) that changes a fixed or sliding rate's
/// period becomes a hop (<see cref="ReloadHops"/>), which the decision script applies to any state it reads that is
/// not yet in the new period's terms. The in-memory store rewrites every key at that moment; Redis holds keys of every
/// instance and cannot be walked, so the rewrite happens when a key is next read, with the same result.
/// </summary>
/// <remarks>
/// An older layer object (a request already under way with the old configuration) gets no hops, as an older object
/// never takes an in-memory table back. Hops are kept while they can still matter (until the windows of the reload's
/// moment have ended), at most <see cref="MaxHops"/> of them.
/// </remarks>
internal sealed class ReloadHistory
{
    /// <summary>The most reloads kept per layer: keys untouched since an older one that still matters start again.</summary>
    public const int MaxHops = 8;

    /// <summary>
    /// How long past a hop's last window it is still sent: this instance's clock and Redis's may differ, and a hop sent
    /// too long costs only a few arguments.
    /// </summary>
    private const long HorizonMarginMicros = 60_000_000;

    private readonly ConcurrentDictionary<(string Name, RateLimitAlgorithm Algorithm, int Segments), Lineage> _lineages = new();

    /// <summary>
    /// The hops to send with a decision of <paramref name="layer"/> at <paramref name="now"/> (microseconds, the
    /// decisions' time as well as this instance knows it), or null. Registers the layer object; a newer one than the
    /// newest seen so far becomes the newest, and a hop at <paramref name="now"/> if it changes a period.
    /// </summary>
    public ReloadHops? HopsFor(RateLimitLayer layer, long now)
    {
        if (layer.Algorithm is not (RateLimitAlgorithm.FixedWindow or RateLimitAlgorithm.SlidingWindow))
        {
            return null;
        }

        var name = (layer.Name, layer.Algorithm, layer.SlidingWindowSegments);
        if (!_lineages.TryGetValue(name, out var lineage))
        {
            lineage = _lineages.GetOrAdd(name, new Lineage(layer.Id, layer.RateArray, null, long.MinValue));
        }

        while (layer.Id > lineage.LayerId)
        {
            var next = lineage.Follow(layer, now);
            lineage = _lineages.TryUpdate(name, next, lineage) ? next : _lineages[name];
        }

        return layer.Id == lineage.LayerId && lineage.Hops is { } hops && now < hops.Horizon + HorizonMarginMicros ? hops : null;
    }

    /// <summary>
    /// The mark of a state that an override change writes at <paramref name="now"/> outside a decision: at least
    /// <paramref name="now"/> and the newest hop's moment, so that the state reads as reflecting every reload so far;
    /// every later hop of the layer comes after it (hop moments are kept strictly after every mark handed out), so that
    /// the state is read through that hop.
    /// </summary>
    public long MarkFor(RateLimitLayer layer, long now)
    {
        var name = (layer.Name, layer.Algorithm, layer.SlidingWindowSegments);
        while (true)
        {
            var lineage = _lineages.GetOrAdd(name, new Lineage(layer.Id, layer.RateArray, null, long.MinValue));
            var mark = Math.Max(Math.Max(now, lineage.Hops?.At[^1] ?? long.MinValue), lineage.LastMark);
            if (mark == lineage.LastMark || _lineages.TryUpdate(name, lineage with { LastMark = mark }, lineage))
            {
                return mark;
            }
        }
    }

    /// <summary>
    /// The newest layer object seen for one name, the rates its keys are in the terms of (its own, then those of rates a
    /// reload dropped: <see cref="Rate.Following"/>), the reloads that led to it, and the latest mark handed out by
    /// <see cref="MarkFor"/>.
    /// </summary>
    private sealed record Lineage(long LayerId, Rate[] Rates, ReloadHops? Hops, long LastMark)
    {
        public Lineage Follow(RateLimitLayer layer, long now)
        {
            var to = layer.RateArray;
            var following = Rate.Following(Rates, to);
            if (!Rate.PeriodChanges(Rates, to))
            {
                return this with { LayerId = layer.Id, Rates = following, Hops = Hops is null ? null : Reshaped(Hops, following.Length) };
            }

            // Strictly after every earlier hop and mark, even within one microsecond: a state is read through each hop
            // whose moment is after the mark it was written with.
            var at = Math.Max(now, Math.Max(LastMark, Hops?.At[^1] ?? long.MinValue) + 1);

            // Earlier hops that can still matter: hop k carries anything only while the window of its moment is open,
            // so once the next hop comes after that, it and every hop before it are spent.
            var times = new List<long>();
            var horizons = new List<long>();
            var columns = new List<int>();
            if (Hops is not null)
            {
                for (var k = 0; k < Hops.Count; k++)
                {
                    var next = k + 1 < Hops.Count ? Hops.At[k + 1] : at;
                    if (next >= Hops.Horizons[k])
                    {
                        times.Clear();
                        horizons.Clear();
                        columns.Clear();
                        continue;
                    }

                    times.Add(Hops.At[k]);
                    horizons.Add(Hops.Horizons[k]);
                    columns.Add(k);
                }
            }

            var skip = Math.Max(0, columns.Count + 1 - MaxHops);
            var count = columns.Count - skip + 1;
            var from = new long[following.Length][];
            for (var r = 0; r < following.Length; r++)
            {
                from[r] = new long[count];
                for (var k = 0; k < count - 1; k++)
                {
                    from[r][k] = r < Hops!.From.Length ? Hops.From[r][columns[skip + k]] : 0;
                }

                from[r][count - 1] = r < Rates.Length ? Rates[r].PeriodMicros : 0;
            }

            times.Add(at);
            horizons.Add(HorizonOf(layer, at));
            return new Lineage(layer.Id, following, new ReloadHops([.. times.Skip(skip)], from, [.. horizons.Skip(skip)]), LastMark);
        }

        /// <summary>When the windows that hold usage carried at <paramref name="at"/> have all ended.</summary>
        private static long HorizonOf(RateLimitLayer layer, long at)
        {
            var horizon = at;
            foreach (var rate in layer.RateArray)
            {
                var period = rate.PeriodMicros;
                if (layer.Algorithm == RateLimitAlgorithm.FixedWindow)
                {
                    horizon = Math.Max(horizon, ((at / period) + 1) * period);
                }
                else
                {
                    var segments = layer.SlidingWindowSegments;
                    var width = SlidingWindowAlgorithm.SegmentWidth(period, segments);
                    horizon = Math.Max(horizon, ((at / width) + segments + 1) * width);
                }
            }

            return horizon;
        }

        /// <summary>
        /// The same hops for a newer layer object with the same periods, whose keys are in the terms of
        /// <paramref name="rates"/> rates (its own and those dropped before); a rate new at a position has no period before any hop.
        /// </summary>
        private static ReloadHops Reshaped(ReloadHops hops, int rates)
        {
            if (rates <= hops.From.Length)
            {
                return hops;
            }

            var from = new long[rates][];
            for (var r = 0; r < rates; r++)
            {
                from[r] = r < hops.From.Length ? hops.From[r] : new long[hops.Count];
            }

            return new ReloadHops(hops.At, from, hops.Horizons);
        }
    }
}
