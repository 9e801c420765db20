namespace Sluice.Server.Admin;

/// <summary>One rate of a layer: its limit, what is left, and the Unix second its window resets.</summary>
public sealed record RateUsageResponse(string Rate, long Limit, long Remaining, long Reset);
