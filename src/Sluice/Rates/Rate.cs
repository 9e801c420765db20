using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Sluice;

/// <summary>
/// A limit per period: "at most <see cref="Limit"/> units every <see cref="Period"/>", written
/// <c>N/period</c> with an optional multiplier (<c>100/min</c>, <c>3/15min</c>, <c>2/s</c>, <c>300/day</c>).
/// </summary>
/// <remarks>
/// For a <see cref="RateLimitAlgorithm.Concurrency"/> layer the same value reads "at most <see cref="Limit"/>
/// requests in flight", and <see cref="Period"/> is the safety lifetime of a lease that is never released
/// (a crashed instance), after which a distributed store reclaims the permit.
/// </remarks>
public readonly struct Rate : IEquatable<Rate>
{
    /// <summary>The largest limit a rate may carry (<see cref="int.MaxValue"/>), so that counters fit 32 bits.</summary>
    public const long MaxLimit = int.MaxValue;

    /// <summary>
    /// The longest period a rate may have: 100 years (36,525 days). Every time a decision reports then stays a date
    /// <see cref="DateTimeOffset"/> holds, and every number of microseconds stays exact in a double (Redis's Lua).
    /// </summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromDays(36_525);

    /// <summary>What is wrong with <paramref name="period"/> as a rate's period, or null: the one rule the constructor and the parser share.</summary>
    internal static string? PeriodProblem(TimeSpan period)
        => period < TimeSpan.FromMilliseconds(1) ? "the period is shorter than 1 ms; a rate's period must be at least 1 ms"
            : period > MaxPeriod ? "the period is longer than 100 years (36525 days), the longest a rate may have"
            : period.Ticks % TimeSpan.TicksPerMicrosecond != 0 ? "the period is not a whole number of microseconds"
            : null;

    /// <summary>
    /// Whether a key's rates changing from <paramref name="from"/> to <paramref name="to"/> changes the period of a rate
    /// both have, matched by position: the one test of whether a reload or an override must rewrite a key's state.
    /// </summary>
    internal static bool PeriodChanges(Rate[] from, Rate[] to)
    {
        for (var r = 0; r < Math.Min(from.Length, to.Length); r++)
        {
            if (from[r].PeriodMicros != to[r].PeriodMicros)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The rates a layer's keys are in the terms of once a reload moves them from <paramref name="from"/> to
    /// <paramref name="to"/>: <paramref name="to"/>, then the rates of <paramref name="from"/> past its length. A rate a
    /// reload drops keeps its state in its own period's terms, and a later reload that brings a rate back at that
    /// position converts it from there, as any period change does.
    /// </summary>
    internal static Rate[] Following(Rate[] from, Rate[] to)
        => from.Length <= to.Length ? to : [.. to, .. from.AsSpan(to.Length)];

    /// <summary>Creates a rate of <paramref name="limit"/> units per <paramref name="period"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="limit"/> is not in 1..<see cref="MaxLimit"/>, or <paramref name="period"/> is shorter than one
    /// millisecond, longer than <see cref="MaxPeriod"/> or not a whole number of microseconds.
    /// </exception>
    public Rate(long limit, TimeSpan period)
    {
        if (limit < 1 || limit > MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"A rate's limit must be between 1 and {MaxLimit}.");
        }

        if (PeriodProblem(period) is { } problem)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, $"A rate's period is wrong: {problem}.");
        }

        Limit = limit;
        PeriodMicros = period.Ticks / TimeSpan.TicksPerMicrosecond;
    }

    /// <summary>The number of units (requests, or a request's cost) allowed per <see cref="Period"/>.</summary>
    public long Limit { get; }

    /// <summary>The length of the window.</summary>
    public TimeSpan Period => TimeSpan.FromTicks(PeriodMicros * TimeSpan.TicksPerMicrosecond);

    /// <summary>The period in whole microseconds, the resolution of every store.</summary>
    internal long PeriodMicros { get; }

    /// <summary>
    /// For a token bucket: a bucket of <paramref name="burst"/> tokens that refills at this rate's pace (one token every
    /// <see cref="Period"/> / <see cref="Limit"/>). A token bucket's limit is its size, so the result is
    /// <paramref name="burst"/> per ⌈burst × period / limit⌉ µs, which keeps the same token interval: <c>10/s</c> with a
    /// burst of 50 is <c>50/5s</c> (10 a second sustained, 50 at once from a full bucket).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="burst"/> is not in 1..<see cref="MaxLimit"/>, or the period it needs is longer than
    /// <see cref="MaxPeriod"/> or shorter than a rate's 1 ms (a fast pace with a small burst, such as <c>10000/s</c> with
    /// a burst of 5: the message names the smallest burst that works).
    /// </exception>
    public Rate WithBurst(long burst)
    {
        if (burst < 1 || burst > MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(burst), burst, $"A burst must be between 1 and {MaxLimit}.");
        }

        var micros = (((Int128)PeriodMicros * burst) + Limit - 1) / Limit;
        if (micros > MaxPeriod.Ticks / TimeSpan.TicksPerMicrosecond)
        {
            throw new ArgumentOutOfRangeException(nameof(burst), burst, $"A burst of {burst} at {this} needs a period longer than 100 years, the longest a rate may have.");
        }

        if (micros < 1000)
        {
            // The smallest burst whose bucket spans 1 ms: ceil(period × b / limit) >= 1000 µs.
            var smallest = (long)Int128.Min(MaxLimit, (((Int128)999 * Limit) / PeriodMicros) + 1);
            throw new ArgumentOutOfRangeException(nameof(burst), burst, $"A burst of {burst} at {this} empties in {(long)micros} µs, and a token bucket must span at least 1 ms: use a burst of at least {smallest}.");
        }

        return new Rate(burst, TimeSpan.FromMicroseconds((long)micros));
    }

    /// <summary>
    /// Parses <c>N/period</c>: N is a whole number, period an optional whole multiplier followed by a unit
    /// (<c>ms</c>, <c>s</c>/<c>sec</c>/<c>second</c>, <c>m</c>/<c>min</c>/<c>minute</c>, <c>h</c>/<c>hour</c>,
    /// <c>d</c>/<c>day</c>, <c>w</c>/<c>week</c>; plurals accepted). Culture-invariant; white space around parts is ignored.
    /// </summary>
    /// <exception cref="FormatException">The text is not a rate; the message quotes it.</exception>
    public static Rate Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!RateSyntax.TryParse(text, out var rate, out var error))
        {
            throw new FormatException($"'{text}' is not a valid rate: {error}. Write N/period, e.g. '100/min', '3/15min', '2/s', '300/day'.");
        }

        return rate;
    }

    /// <summary>Parses like <see cref="Parse"/>, returning <see langword="false"/> instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Rate rate)
    {
        if (text is null)
        {
            rate = default;
            return false;
        }

        return RateSyntax.TryParse(text, out rate, out _);
    }

    /// <summary>Parses like <see cref="Parse"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Rate rate, [NotNullWhen(false)] out string? error)
    {
        if (text is null)
        {
            rate = default;
            error = "the rate is missing";
            return false;
        }

        return RateSyntax.TryParse(text, out rate, out error);
    }

    /// <summary>Formats the rate in the shortest canonical form that <see cref="Parse"/> reads back: <c>3/15min</c>.</summary>
    public override string ToString() => Limit.ToString(CultureInfo.InvariantCulture) + "/" + RateSyntax.FormatPeriod(Period);

    /// <inheritdoc />
    public bool Equals(Rate other) => Limit == other.Limit && PeriodMicros == other.PeriodMicros;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Rate other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Limit, PeriodMicros);

    /// <summary>Compares two rates for equality.</summary>
    public static bool operator ==(Rate left, Rate right) => left.Equals(right);

    /// <summary>Compares two rates for inequality.</summary>
    public static bool operator !=(Rate left, Rate right) => !left.Equals(right);
}
