namespace Sluice.Quotas;

/// <summary>
/// A quota store in process memory: exact under concurrency, but usage is lost when the process ends. For tests and
/// single-process tools; a server should use the SQLite or Redis store. A quota counted by month and by day keeps a
/// count for each. Items of periods that have ended are dropped on the first charge of each UTC day.
/// </summary>
public sealed class MemoryQuotaStore : QuotaStore
{
    private readonly Dictionary<(string Quota, string Subject, QuotaPeriod Period), Bucket> _buckets = new();
    private string? _sweptOn;
    private readonly TimeProvider _time;

    /// <summary>Creates a store reading time from <paramref name="timeProvider"/> (default <see cref="TimeProvider.System"/>).</summary>
    public MemoryQuotaStore(TimeProvider? timeProvider = null) => _time = timeProvider ?? TimeProvider.System;

    /// <inheritdoc />
    public override ValueTask<QuotaDecision> ChargeAsync(QuotaRequest request, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(Charge(request, cancellationToken));

    /// <inheritdoc />
    public override ValueTask<IReadOnlyList<QuotaDecision>> ChargeManyAsync(IReadOnlyList<QuotaRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var decisions = new QuotaDecision[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            decisions[i] = Charge(requests[i], cancellationToken);
        }

        return ValueTask.FromResult<IReadOnlyList<QuotaDecision>>(decisions);
    }

    private QuotaDecision Charge(QuotaRequest request, CancellationToken cancellationToken)
    {
        Validate(request);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        var name = request.Period.NameOf(now);
        var resets = request.Period.ResetAfter(now);
        lock (_buckets)
        {
            DropPastPeriods(now);
            if (!_buckets.TryGetValue((request.Quota, request.Subject, request.Period), out var bucket) || bucket.Period != name)
            {
                bucket = new Bucket(name);
                _buckets[(request.Quota, request.Subject, request.Period)] = bucket;
            }

            if (bucket.Items.Contains(request.Item))
            {
                return new QuotaDecision(QuotaOutcome.AlreadyCounted, request.Limit, bucket.Items.Count, resets);
            }

            if (bucket.Items.Count + 1 > request.Limit)
            {
                return new QuotaDecision(QuotaOutcome.Exceeded, request.Limit, bucket.Items.Count, resets);
            }

            bucket.Items.Add(request.Item);
            return new QuotaDecision(QuotaOutcome.Charged, request.Limit, bucket.Items.Count, resets);
        }
    }

    /// <inheritdoc />
    public override ValueTask<bool> RefundAsync(QuotaRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        var name = request.Period.NameOf(_time.GetUtcNow());
        lock (_buckets)
        {
            return ValueTask.FromResult(_buckets.TryGetValue((request.Quota, request.Subject, request.Period), out var bucket) && bucket.Period == name && bucket.Items.Remove(request.Item));
        }
    }

    /// <inheritdoc />
    public override ValueTask<QuotaUsage> GetUsageAsync(string quota, string subject, long limit, QuotaPeriod period, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        lock (_buckets)
        {
            var used = _buckets.TryGetValue((quota, subject, period), out var bucket) && bucket.Period == period.NameOf(now) ? bucket.Items.Count : 0;
            return ValueTask.FromResult(new QuotaUsage(limit, used, period.ResetAfter(now)));
        }
    }

    /// <summary>
    /// On the first charge of each UTC day, drops the items of subjects whose period has ended (a subject not charged
    /// again would keep them forever). Under the lock.
    /// </summary>
    private void DropPastPeriods(DateTimeOffset now)
    {
        var today = QuotaPeriod.Day.NameOf(now);
        if (_sweptOn == today)
        {
            return;
        }

        _sweptOn = today;
        foreach (var (key, bucket) in _buckets)
        {
            if (bucket.Period != key.Period.NameOf(now))
            {
                _buckets.Remove(key);
            }
        }
    }

    private sealed class Bucket(string period)
    {
        public string Period { get; } = period;

        public HashSet<string> Items { get; } = new(StringComparer.Ordinal);
    }
}
