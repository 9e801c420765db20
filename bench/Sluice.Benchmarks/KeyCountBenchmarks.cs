using BenchmarkDotNet.Attributes;

namespace Sluice.Benchmarks;

/// <summary>
/// <see cref="DecisionBenchmarks"/> at other numbers of distinct clients: from 100 (every entry stays in the L1 cache)
/// to 100,000 (past the L2 cache), to show how much of a decision's cost is memory and how much is work. Run with a
/// filter on the three-layer methods.
/// </summary>
public class KeyCountBenchmarks : DecisionBenchmarks
{
    /// <inheritdoc />
    [Params(100, 1_000, 100_000)]
    public override int Keys { get; set; } = 100;
}
