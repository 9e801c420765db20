using System.Reflection;

namespace Sluice.Tests.Layers;

/// <summary>Moves the process-wide layer counter, so it runs alone, after every other test of this assembly.</summary>
[CollectionDefinition(nameof(LayerIdentityTests), DisableParallelization = true)]
public sealed class LayerIdentityCollection;

[Collection(nameof(LayerIdentityTests))]
public sealed class LayerIdentityTests
{
    [Fact]
    public void APastTwoBillionLayersBuilt_AreStillDistinct_AndDecide()
    {
        var counter = typeof(RateLimitLayer).GetField("s_nextId", BindingFlags.NonPublic | BindingFlags.Static)!;
        var saved = counter.GetValue(null)!;
        try
        {
            // A program that builds a layer per request reaches this within days.
            counter.SetValue(null, Convert.ChangeType(int.MaxValue - 1, counter.FieldType, System.Globalization.CultureInfo.InvariantCulture));
            var store = new MemoryRateLimitStore();
            var statuses = new RateStatus[1];
            var layers = Enumerable.Range(0, 4).Select(i => RateLimitLayer.FixedWindow($"per-request-{i}", Rate.Parse("1/min"))).ToList();

            var first = layers.Select(l => store.Acquire([l.For("k")], statuses).IsAllowed).ToList();
            var second = layers.Select(l => store.Acquire([l.For("k")], statuses).IsAllowed).ToList();

            Assert.All(first, Assert.True);
            Assert.All(second, Assert.False);
        }
        finally
        {
            counter.SetValue(null, saved);
        }
    }
}
