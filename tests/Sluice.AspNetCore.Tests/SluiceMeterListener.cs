using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.AspNetCore.Tests;

/// <summary>
/// Records every measurement of <c>Sluice</c> meters as "instrument:tag values", with the meter's scope (the app's
/// <see cref="IMeterFactory"/>), since test classes run in parallel, each with its own app.
/// </summary>
internal sealed class SluiceMeterListener : IDisposable
{
    private readonly MeterListener _listener = new();

    public SluiceMeterListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Sluice")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Record(instrument, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Record(instrument, tags));
        _listener.Start();
    }

    private readonly ConcurrentQueue<(object? Scope, string Text)> _measurements = new();

    /// <summary>The measurements of one app's meters.</summary>
    public IReadOnlyList<string> Of(TestApp app)
    {
        var scope = app.App.Services.GetRequiredService<IMeterFactory>();
        return [.. _measurements.Where(m => ReferenceEquals(m.Scope, scope)).Select(m => m.Text)];
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var values = new List<string>();
        foreach (var tag in tags)
        {
            values.Add(tag.Value?.ToString() ?? string.Empty);
        }

        _measurements.Enqueue((instrument.Meter.Scope, values.Count == 0 ? instrument.Name : instrument.Name + ":" + string.Join(",", values)));
    }
}
