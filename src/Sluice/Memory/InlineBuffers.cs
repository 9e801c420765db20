using System.Runtime.CompilerServices;

namespace Sluice.Memory;

/// <summary>Per-decision scratch space on the stack for up to eight layers, so that a decision allocates nothing.</summary>
internal static class InlineBuffers
{
    public const int Length = 8;

    [InlineArray(Length)]
    public struct Shards
    {
        private LayerShard? _element;
    }

    [InlineArray(Length)]
    public struct Tables
    {
        private LayerTable? _element;
    }

    [InlineArray(Length)]
    public struct RateArrays
    {
        private Rate[]? _element;
    }
}
