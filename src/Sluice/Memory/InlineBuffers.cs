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

    [InlineArray(LeanLayers)]
    public struct LeanShards
    {
        private LayerShard? _element;
    }

    [InlineArray(LeanLayers)]
    public struct LeanTables
    {
        private LayerTable? _element;
    }

    [InlineArray(LeanLayers)]
    public struct LeanInts
    {
        private int _element;
    }

    [InlineArray(LeanLayers)]
    public struct LeanLongs
    {
        private long _element;
    }

    [InlineArray(Statuses)]
    public struct StatusLongs
    {
        private long _element;
    }
}
