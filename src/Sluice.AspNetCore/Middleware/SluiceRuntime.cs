using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sluice.AspNetCore.Diagnostics;

namespace Sluice.AspNetCore.Middleware;

/// <summary>
/// Holds the configuration in force. It is compiled and checked against the endpoints once, when the middleware is
/// built (startup fails with every problem listed); after that, every configuration change is compiled and swapped in,
/// or, if invalid, logged and ignored.
/// </summary>
internal sealed class SluiceRuntime : IDisposable
{
    private readonly IOptionsMonitor<SluiceOptions> _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private IDisposable? _subscription;
    private EndpointDataSource? _endpoints;
    private volatile SluicePlan? _plan;

    public SluiceRuntime(IOptionsMonitor<SluiceOptions> options, RateLimitStore store, SluiceMetrics metrics, ILogger<SluiceRuntime> logger, TimeProvider time)
    {
        _options = options;
        Time = time;
        Store = store;
        Metrics = metrics;
        _logger = logger;
    }

    public RateLimitStore Store { get; }

    /// <summary>The application's clock (for the IETF headers' seconds-until-reset).</summary>
    public TimeProvider Time { get; }

    public SluiceMetrics Metrics { get; }

    public ILogger Logger => _logger;

    public SluicePlan Plan => _plan ?? throw new InvalidOperationException("Sluice is not started: call app.UseSluice().");

    /// <summary>Compiles the current configuration against the endpoints; throws with every problem, or starts watching for changes.</summary>
    public void Start(EndpointDataSource? endpoints)
    {
        if (_plan is not null)
        {
            return;
        }

        lock (_gate)
        {
            if (_plan is not null)
            {
                return;
            }

            _endpoints = endpoints;
            var problems = new List<string>();
            var plan = Compile(_options.CurrentValue, problems);
            if (plan is null)
            {
                throw new SluiceConfigurationException(problems);
            }

            _plan = plan;
            WarnOfUnusedLayers(plan);
            _subscription = _options.OnChange(Reload);
        }
    }

    /// <summary>Compiles a configuration without applying it; the plan is null when there are problems.</summary>
    public SluicePlan? Compile(SluiceOptions options, List<string> problems)
    {
        var plan = SluicePlan.Build(options, problems);
        if (plan is not null && _endpoints is not null)
        {
            SluicePlan.CheckEndpoints(plan, _endpoints.Endpoints, Store.MaxLayersPerDecision, problems);
        }

        return problems.Count == 0 ? plan : null;
    }

    public void Dispose() => _subscription?.Dispose();

    private void Reload(SluiceOptions options)
    {
        var problems = new List<string>();
        var plan = Compile(options, problems);
        if (plan is null)
        {
            SluiceLog.ReloadRejected(_logger, string.Join(" ", problems));
            return;
        }

        _plan = plan;
        SluiceLog.Reloaded(_logger, plan.Layers.Count);
        WarnOfUnusedLayers(plan);
    }

    /// <summary>Logs each endpoint layer that no mapped endpoint applies (event 7): most likely a forgotten <c>RequireRateLimit</c>.</summary>
    private void WarnOfUnusedLayers(SluicePlan plan)
    {
        if (_endpoints is null)
        {
            return;
        }

        var used = new HashSet<CompiledLayer>(_endpoints.Endpoints.SelectMany(e => plan.For(e).Layers));
        foreach (var (name, layer) in plan.Layers)
        {
            if (layer.Scope == SluiceLayerScope.Endpoint && !used.Contains(layer))
            {
                SluiceLog.UnusedEndpointLayer(_logger, $"{plan.Options.SectionPath}:Layers:{name}");
            }
        }
    }
}
