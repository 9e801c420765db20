using System.Runtime.CompilerServices;

namespace Sluice.Memory;

/// <summary>
/// Per-decision scratch space on the stack, sized for the most layers a request may name, so that a decision
/// allocates nothing. Only numbers: writing references into stack spans would cost a GC write barrier each.
/// </summary>
internal static class InlineBuffers
{
    public const int Layers = MemoryRateLimitStore.MaxLayersPerRequest;

    public const int Statuses = Layers * RateLimitLayer.MaxRates;

    /// <summary>Requests of up to this many one-rate layers take the lean path.</summary>
    public const int LeanLayers = 4;

    [InlineArray(Layers)]
    public struct LayerInts
    {
        private int _element;
    }

    [InlineArray(Layers)]
    public struct LayerLongs
    {
        private long _element;
    }

    /// <summary>The first element, for indexing without bounds checks (callers stay below <see cref="LeanLayers"/>).</summary>
    public static ref LeanLayer First(ref LeanLayerArray layers) => ref layers[0];

    [InlineArray(Statuses)]
    public struct StatusLongs
    {
        private long _element;
    }

    /// <summary>What the lean path knows of one layer of the request.</summary>
    public struct LeanLayer
    {
        public LayerShard? Shard;
        public LayerTable? Table;
        public int Hash;
        public int Index;
        public long State;
        public long Expiry;
    }

    [InlineArray(LeanLayers)]
    public struct LeanLayerArray
    {
        private LeanLayer _element;
    }
}
