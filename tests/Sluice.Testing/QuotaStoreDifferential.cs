using Sluice.Quotas;
using Xunit;

namespace Sluice.Testing;

/// <summary>
/// Two quota stores side by side on one fake clock: seeded random traffic (charges one by one and in batches, refunds
/// and usage reads, three subjects, monthly and daily quotas, limits that change between calls as a plan would, time
/// moving from nothing to across a month) must get the very same answers from each. A difference fails with the seed
/// and step, so it is reproducible.
/// </summary>
public static class QuotaStoreDifferential
{
    private static readonly string[] s_subjects = ["acct-1", "acct-2", "acct-3"];

    private static readonly long[] s_limits = [0, 2, 5, 5, 5, 8];

    /// <summary>Runs <paramref name="steps"/> operations against both stores, which must read <paramref name="clock"/>.</summary>
    public static async Task RunAsync(QuotaStore expected, QuotaStore actual, ManualTimeProvider clock, int seed, int steps)
    {
        var random = new Random(seed);
        for (var step = 0; step < steps; step++)
        {
            clock.Advance(random.Next(6) switch
            {
                0 => TimeSpan.Zero,
                1 or 2 => TimeSpan.FromMinutes(random.Next(1, 600)),
                3 or 4 => TimeSpan.FromHours(random.Next(1, 48)),
                _ => TimeSpan.FromDays(random.Next(1, 20)),
            });
            var context = $"seed {seed}, step {step}, {clock.GetUtcNow():O}";
            switch (random.Next(10))
            {
                case < 5:
                {
                    var request = Request(random);
                    Assert.True(await expected.ChargeAsync(request) == await actual.ChargeAsync(request), $"{context}: charge {request}");
                    break;
                }

                case < 7:
                {
                    var batch = Enumerable.Range(0, random.Next(1, 6)).Select(_ => Request(random)).ToArray();
                    var one = await expected.ChargeManyAsync(batch);
                    var other = await actual.ChargeManyAsync(batch);
                    Assert.True(one.SequenceEqual(other), $"{context}: batch [{string.Join("; ", batch)}]: [{string.Join("; ", one)}] against [{string.Join("; ", other)}]");
                    break;
                }

                case < 9:
                {
                    var request = Request(random);
                    Assert.True(await expected.RefundAsync(request) == await actual.RefundAsync(request), $"{context}: refund {request}");
                    break;
                }

                default:
                {
                    var request = Request(random);
                    var one = await expected.GetUsageAsync(request.Quota, request.Subject, request.Limit, request.Period);
                    var other = await actual.GetUsageAsync(request.Quota, request.Subject, request.Limit, request.Period);
                    Assert.True(one == other, $"{context}: usage {request}: {one} against {other}");
                    break;
                }
            }
        }
    }

    private static QuotaRequest Request(Random random)
    {
        var daily = random.Next(3) == 0;
        return new QuotaRequest(
            daily ? "daily-sends" : "recipients",
            s_subjects[random.Next(s_subjects.Length)],
            $"person-{random.Next(12)}@example.com",
            s_limits[random.Next(s_limits.Length)],
            daily ? QuotaPeriod.Day : QuotaPeriod.Month);
    }
}
