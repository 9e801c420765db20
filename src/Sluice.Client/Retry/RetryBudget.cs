namespace Sluice.Client;

/// <summary>
/// Caps retries under sustained failure: every first attempt deposits <c>ratio</c> of a retry (up to a cap), every
/// retry withdraws one, and a reserve of <c>minimum</c> retries is always there to start with. With the defaults (0.2 and
/// 10), retries stay under a fifth of traffic once the reserve is spent. Thread-safe; shared like the pacers.
/// </summary>
public sealed class RetryBudget
{
    private readonly object _gate = new();
    private readonly double _ratio;
    private readonly double _cap;
    private double _tokens;

    /// <summary>Creates a budget of <paramref name="minimum"/> retries plus <paramref name="ratio"/> per request.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> is negative or not a finite number, or <paramref name="minimum"/> is negative.</exception>
    public RetryBudget(double ratio = 0.2, int minimum = 10)
    {
        if (!double.IsFinite(ratio))
        {
            // NaN passes a sign check and would make every withdrawal succeed: no budget at all.
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The ratio must be a finite number.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(ratio);
        ArgumentOutOfRangeException.ThrowIfNegative(minimum);
        _ratio = ratio;
        _cap = minimum + (100 * ratio);
        _tokens = minimum;
    }

    /// <summary>Retries that could be spent right now.</summary>
    public double Available
    {
        get
        {
            lock (_gate)
            {
                return _tokens;
            }
        }
    }

    /// <summary>Records a first attempt.</summary>
    public void Deposit()
    {
        lock (_gate)
        {
            _tokens = Math.Min(_cap, _tokens + _ratio);
        }
    }

    /// <summary>Takes one retry; false when the budget is spent (then do not retry).</summary>
    public bool TryWithdraw()
    {
        lock (_gate)
        {
            if (_tokens < 1)
            {
                return false;
            }

            _tokens--;
            return true;
        }
    }
}
