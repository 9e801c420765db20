using System.Diagnostics.Metrics;

namespace Sluice.AspNetCore.Diagnostics;

/// <summary>
/// The <c>Sluice</c> meter: <c>sluice.decisions</c> (requests per layer and outcome: allowed, denied, shadow_denied),
/// <c>sluice.store.duration</c> (seconds per store decision) and <c>sluice.store.failures</c>.
/// </summary>
internal sealed class SluiceMetrics : IDisposable
{
    public const string MeterName = "Sluice";

    private readonly Meter _meter;

    public SluiceMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Decisions = _meter.CreateCounter<long>("sluice.decisions", "{request}", "Rate-limit decisions per layer and outcome.");
        StoreDuration = _meter.CreateHistogram<double>("sluice.store.duration", "s", "Time the store took to decide one request.");
        StoreFailures = _meter.CreateCounter<long>("sluice.store.failures", "{request}", "Decisions the store could not make: the request was let through, or refused with 503 by a store that fails closed.");
    }

    public Counter<long> Decisions { get; }

    public Histogram<double> StoreDuration { get; }

    public Counter<long> StoreFailures { get; }

    public void Dispose() => _meter.Dispose();
}
