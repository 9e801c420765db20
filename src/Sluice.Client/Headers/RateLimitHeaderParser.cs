using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Sluice.Client;

/// <summary>
/// Reads every rate-limit header form servers send: <c>Retry-After</c> (delta seconds or HTTP-date), the IETF
/// structured fields of draft-ietf-httpapi-ratelimit-headers-10 (<c>RateLimit-Policy: "p";q=100;w=60</c> and
/// <c>RateLimit: "p";r=42;t=17</c>), and the de-facto <c>X-RateLimit-Limit/Remaining/Reset</c> and
/// <c>RateLimit-Limit/Remaining/Reset</c> (reset as Unix seconds or as a delta). Malformed values are ignored; waits
/// longer than <see cref="LongestWait"/> (a reset centuries away, a number past what a date holds) are read as that.
/// </summary>
public static class RateLimitHeaderParser
{
    /// <summary>Resets at or above this are Unix seconds; below, a delta in seconds (the draft's "delta-seconds").</summary>
    private const long EpochThreshold = 1_000_000_000;

    /// <summary>The longest wait a header is read as: 100 years, far past any retry limit, and safe to add to a date.</summary>
    public static readonly TimeSpan LongestWait = TimeSpan.FromDays(36_525);

    private static readonly long s_longestSeconds = (long)LongestWait.TotalSeconds;

    private static readonly long s_lastUnixSecond = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>Reads <paramref name="response"/>'s headers; <paramref name="now"/> turns dates and epochs into waits.</summary>
    public static ServerLimits Parse(HttpResponseMessage response, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(response);
        var headers = response.Headers;
        var policies = new Dictionary<string, ClientRate>(StringComparer.Ordinal);
        TimeSpan? wait = null;
        string? source = null;
        TimeSpan? exhausted = null;
        (long, DateTimeOffset)? window = null;

        if (headers.RetryAfter is { } retryAfter)
        {
            wait = retryAfter.Delta is { } delta ? Bounded(delta) : retryAfter.Date is { } date ? Bounded(date - now) : null;
            source = wait is null ? null : "Retry-After";
        }

        if (Value(headers, "RateLimit-Policy") is { } policyField)
        {
            foreach (var (name, parameters) in StructuredList(policyField))
            {
                if (Number(parameters, "q") is { } quota && quota >= 1 && Number(parameters, "w") is { } seconds && seconds >= 1 && seconds <= s_longestSeconds)
                {
                    policies[name] = new ClientRate(quota, TimeSpan.FromSeconds(seconds));
                }
            }
        }

        if (Value(headers, "RateLimit") is { } stateField && stateField.Contains('=', StringComparison.Ordinal))
        {
            TimeSpan? longestEmpty = null;
            TimeSpan? longestAny = null;
            TimeSpan? longestUnknown = null;
            foreach (var (name, parameters) in StructuredList(stateField))
            {
                var t = Number(parameters, "t") is { } seconds && seconds >= 0 ? Seconds(seconds) : (TimeSpan?)null;
                longestAny = Max(longestAny, t);
                if (Number(parameters, "r") is 0)
                {
                    longestEmpty = Max(longestEmpty, t ?? TimeSpan.Zero);
                    if (!policies.ContainsKey(name))
                    {
                        longestUnknown = Max(longestUnknown, t ?? TimeSpan.Zero);
                    }
                }
            }

            // An exhausted policy whose quota and window are published is paced by its rate, which is exact; its t is
            // whole seconds and, for a sliding window, when the window drains entirely, so pausing for it would waste time.
            exhausted = longestUnknown;
            if (wait is null && (longestEmpty ?? (response.StatusCode == HttpStatusCode.TooManyRequests ? longestAny : null)) is { } ietfWait)
            {
                wait = ietfWait;
                source = "RateLimit";
            }
        }

        foreach (var prefix in (ReadOnlySpan<string>)["X-RateLimit-", "RateLimit-"])
        {
            var reset = Integer(headers, prefix + "Reset") is { } value
                ? value >= EpochThreshold ? UntilUnixSeconds(value, now) : Seconds(value)
                : (TimeSpan?)null;
            if (reset is null)
            {
                continue;
            }

            if (Integer(headers, prefix + "Remaining") is 0)
            {
                exhausted = Max(exhausted, reset);
            }

            if (window is null && Integer(headers, prefix + "Limit") is { } limit && limit >= 1)
            {
                window = (limit, now + reset.Value);
            }

            if (wait is null && (response.StatusCode == HttpStatusCode.TooManyRequests || Integer(headers, prefix + "Remaining") is 0))
            {
                wait = reset;
                source = prefix + "Reset";
            }
        }

        return new ServerLimits { Wait = wait, WaitSource = source, Policies = policies, ExhaustedFor = exhausted, Window = window };
    }

    /// <summary>The members of a structured-field list: each item's name (token or quoted string) and its parameters.</summary>
    internal static IEnumerable<(string Name, Dictionary<string, string> Parameters)> StructuredList(string field)
    {
        foreach (var member in SplitOutsideQuotes(field, ','))
        {
            var parts = SplitOutsideQuotes(member, ';');
            if (parts.Count == 0 || parts[0].Length == 0)
            {
                continue;
            }

            var name = parts[0].Trim('"');
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var parameter in parts.Skip(1))
            {
                var equals = parameter.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0)
                {
                    parameters[parameter[..equals].Trim()] = parameter[(equals + 1)..].Trim().Trim('"');
                }
            }

            yield return (name, parameters);
        }
    }

    private static List<string> SplitOutsideQuotes(string text, char separator)
    {
        var parts = new List<string>();
        var start = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"' && (i == 0 || text[i - 1] != '\\'))
            {
                quoted = !quoted;
            }
            else if (text[i] == separator && !quoted)
            {
                parts.Add(text[start..i].Trim());
                start = i + 1;
            }
        }

        parts.Add(text[start..].Trim());
        return parts;
    }

    private static long? Number(Dictionary<string, string> parameters, string name)
        => parameters.TryGetValue(name, out var text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static long? Integer(HttpResponseHeaders headers, string name)
        => Value(headers, name) is { } text && long.TryParse(text.Split(',')[0].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string? Value(HttpResponseHeaders headers, string name)
        => headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>A wait between zero and <see cref="LongestWait"/>.</summary>
    private static TimeSpan Bounded(TimeSpan wait) => wait <= TimeSpan.Zero ? TimeSpan.Zero : wait >= LongestWait ? LongestWait : wait;

    /// <summary>A count of seconds as a wait, without overflowing <see cref="TimeSpan"/>.</summary>
    private static TimeSpan Seconds(long seconds) => seconds <= 0 ? TimeSpan.Zero : seconds >= s_longestSeconds ? LongestWait : TimeSpan.FromSeconds(seconds);

    /// <summary>The wait until a Unix time, which may lie past the last date <see cref="DateTimeOffset"/> holds.</summary>
    private static TimeSpan UntilUnixSeconds(long value, DateTimeOffset now)
        => value > s_lastUnixSecond ? LongestWait : Bounded(DateTimeOffset.FromUnixTimeSeconds(value) - now);

    private static TimeSpan? Max(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : Max(a.Value, b.Value);
}
