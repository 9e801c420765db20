using Xunit;

namespace Sluice.Tests.Time;

public sealed class MicrosecondsTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(999_999, 1)]
    [InlineData(1_000_000, 1)]
    [InlineData(1_000_001, 2)]
    [InlineData(1_795_418_640_000_000, 1_795_418_640)]
    [InlineData(1_795_418_640_000_001, 1_795_418_641)]
    [InlineData(-1, 0)]
    [InlineData(-1_000_000, -1)]
    [InlineData(-1_500_000, -1)]
    public void CeilingSeconds_RoundsUpTowardsPositiveInfinity(long micros, long seconds)
        => Assert.Equal(seconds, Microseconds.CeilingSeconds(micros));
}
