namespace Sluice.Benchmarks;

/// <summary>The request shape the System.Threading.RateLimiting peer partitions on.</summary>
public sealed record PeerRequest(string Ip, string ApiKey, string Route);
