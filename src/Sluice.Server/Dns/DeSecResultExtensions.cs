namespace Sluice.Server.Dns;

/// <summary>Result factories for the DNS API.</summary>
internal static class DeSecResultExtensions
{
    /// <summary>deSEC's 429 body with <c>Retry-After: seconds</c>.</summary>
    public static IResult DeSecThrottled(this IResultExtensions extensions, long seconds) => new DeSecThrottledResult(seconds);
}
