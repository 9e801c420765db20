namespace Sluice.Client;

/// <summary>
/// Adaptive pacing for servers that publish no limits, after AWS SDKs' adaptive retry mode: a token bucket whose fill
/// rate follows CUBIC. Off until the first throttle; on a throttle the rate drops to β = 0.7 of the measured send rate
/// (W_max is that measured rate); while requests succeed it grows as C·(t − K)³ + W_max with C = 0.4 and
/// K = ∛(W_max·(1 − β)/C), so it regains W_max K seconds after the throttle and probes beyond it, never above twice the
/// measured send rate. Thread-safe.
/// </summary>
public sealed class CubicRateController
{
    /// <summary>The multiplicative decrease on a throttle.</summary>
    public const double Beta = 0.7;

    /// <summary>The cubic growth constant.</summary>
    public const double C = 0.4;

    private const double SmoothingOld = 0.2;
    private const double MinimumRate = 0.5;

    private readonly object _gate = new();
    private bool _enabled;
    private double _fillRate;
    private double _tokens;
    private double _lastTokenSeconds = double.NaN;
    private double _lastMaxRate;
    private double _lastThrottleSeconds;
    private double _measuredRate;
    private double _bucketSeconds = double.NaN;
    private long _bucketCount;

    /// <summary>The current fill rate in requests per second; 0 while not yet enabled.</summary>
    public double FillRate
    {
        get
        {
            lock (_gate)
            {
                return _enabled ? _fillRate : 0;
            }
        }
    }

    /// <summary>The measured send rate (requests per second, smoothed over half-second buckets).</summary>
    public double MeasuredRate
    {
        get
        {
            lock (_gate)
            {
                return _measuredRate;
            }
        }
    }

    /// <summary>Takes a token for one request and returns how long to wait for it (zero while not enabled).</summary>
    public TimeSpan Acquire(DateTimeOffset now)
    {
        TryAcquire(now, TimeSpan.MaxValue, out var wait);
        return wait;
    }

    /// <summary>
    /// Takes a token for one request if the wait for it is at most <paramref name="longest"/> (always while not
    /// enabled, with no wait). Returns false and takes nothing when the wait is longer, nor counts the request in the
    /// measured send rate: a caller that gives up holds back no later caller. <paramref name="wait"/> is the wait either way.
    /// </summary>
    public bool TryAcquire(DateTimeOffset now, TimeSpan longest, out TimeSpan wait)
    {
        lock (_gate)
        {
            var seconds = Seconds(now);
            wait = TimeSpan.Zero;
            if (_enabled)
            {
                Refill(seconds);
                var left = _tokens - 1;
                if (left < 0)
                {
                    wait = TimeSpan.FromSeconds(-left / _fillRate);
                    if (wait > longest)
                    {
                        return false;
                    }
                }

                _tokens = left;
            }

            Measure(seconds);
            return true;
        }
    }

    /// <summary>
    /// Gives back what <see cref="TryAcquire"/> took at <paramref name="acquiredAt"/> for a request that was not sent
    /// after all (its caller gave up while waiting): its token while enabled, and its count in the measured send rate
    /// while that half-second is still being measured.
    /// </summary>
    public void Return(DateTimeOffset acquiredAt)
    {
        lock (_gate)
        {
            if (_enabled)
            {
                _tokens = Math.Min(Math.Max(_fillRate, 1), _tokens + 1);
            }

            if (_bucketCount > 0 && Math.Floor(Seconds(acquiredAt) * 2) / 2 == _bucketSeconds)
            {
                _bucketCount--;
            }
        }
    }

    /// <summary>The server throttled a request: multiplicative decrease from the measured rate.</summary>
    public void OnThrottle(DateTimeOffset now)
    {
        lock (_gate)
        {
            var seconds = Seconds(now);
            var rate = _enabled ? Math.Min(_measuredRate, _fillRate) : _measuredRate;
            _lastMaxRate = Math.Max(rate, MinimumRate);
            _lastThrottleSeconds = seconds;
            SetRate(seconds, _lastMaxRate * Beta);
            _enabled = true;
        }
    }

    /// <summary>A request succeeded: cubic growth from the last throttle.</summary>
    public void OnSuccess(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_enabled)
            {
                return;
            }

            var seconds = Seconds(now);
            var k = Math.Cbrt(_lastMaxRate * (1 - Beta) / C);
            var cubic = (C * Math.Pow(seconds - _lastThrottleSeconds - k, 3)) + _lastMaxRate;
            SetRate(seconds, Math.Min(cubic, 2 * Math.Max(_measuredRate, MinimumRate)));
        }
    }

    private static double Seconds(DateTimeOffset now) => now.UtcTicks / (double)TimeSpan.TicksPerSecond;

    private void SetRate(double seconds, double rate)
    {
        Refill(seconds);
        _fillRate = Math.Max(rate, MinimumRate);
        _tokens = Math.Min(_tokens, _fillRate);
    }

    private void Refill(double seconds)
    {
        if (!double.IsNaN(_lastTokenSeconds) && _fillRate > 0)
        {
            _tokens = Math.Min(Math.Max(_fillRate, 1), _tokens + ((seconds - _lastTokenSeconds) * _fillRate));
        }

        _lastTokenSeconds = seconds;
    }

    private void Measure(double seconds)
    {
        var bucket = Math.Floor(seconds * 2) / 2;
        if (double.IsNaN(_bucketSeconds))
        {
            _bucketSeconds = bucket;
        }

        if (bucket > _bucketSeconds)
        {
            var current = _bucketCount / (bucket - _bucketSeconds);
            _measuredRate = (current * (1 - SmoothingOld)) + (_measuredRate * SmoothingOld);
            _bucketCount = 0;
            _bucketSeconds = bucket;
        }

        _bucketCount++;
    }
}
