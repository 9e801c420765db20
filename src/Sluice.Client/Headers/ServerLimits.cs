namespace Sluice.Client;

/// <summary>What one response says about the server's limits, read by <see cref="RateLimitHeaderParser"/>.</summary>
public sealed class ServerLimits
{
    /// <summary>
    /// How long the server asked the client to wait, by precedence: <c>Retry-After</c> (seconds or HTTP-date), then the
    /// IETF <c>RateLimit</c> field's <c>t</c> (largest among policies with <c>r=0</c>, else any on a 429), then
    /// <c>X-RateLimit-Reset</c> / <c>RateLimit-Reset</c> (epoch seconds or a delta). Null when none says.
    /// </summary>
    public TimeSpan? Wait { get; init; }

    /// <summary>The source of <see cref="Wait"/>: <c>Retry-After</c>, <c>RateLimit</c>, <c>X-RateLimit-Reset</c> or <c>RateLimit-Reset</c>.</summary>
    public string? WaitSource { get; init; }

    /// <summary>Policies the server publishes (IETF <c>RateLimit-Policy</c> <c>q</c>/<c>w</c>, or <c>X-RateLimit-Limit</c> with its window when known), by policy name.</summary>
    public IReadOnlyDictionary<string, ClientRate> Policies { get; init; } = new Dictionary<string, ClientRate>();

    /// <summary>
    /// Time until the server will admit requests again when a policy says none remain and its rate is not published
    /// (IETF <c>r=0</c> with <c>t</c> for a policy missing from <c>RateLimit-Policy</c>, or <c>X-RateLimit-Remaining: 0</c>
    /// with a reset); a published rate paces exactly instead. Null while requests remain.
    /// </summary>
    public TimeSpan? ExhaustedFor { get; init; }

    /// <summary>
    /// The de-facto window, when <c>X-RateLimit-Limit</c> (or <c>RateLimit-Limit</c>) and its reset are both sent: the
    /// limit and the instant the current window resets. The window's length is not sent; a pacer infers it from two
    /// consecutive resets.
    /// </summary>
    public (long Limit, DateTimeOffset ResetAt)? Window { get; init; }
}
