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
    private volatile EndpointDataSource? _endpoints;
    private volatile SluicePlan? _plan;

    /// <summary>The <c>Store</c> setting the application started with: the store is chosen once, at startup.</summary>
    private string? _storeInUse;

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

    /// <summary>
    /// Compiles the current configuration and, given the endpoints, checks it against them; throws with every problem,
    /// or starts watching for changes. Called without endpoints (by <see cref="SluiceLimits"/> before the app starts, when
    /// the endpoints mapped on a <c>WebApplication</c> are not yet visible through <see cref="EndpointDataSource"/>), it
    /// only compiles, and the endpoint checks wait for the call with endpoints, which the middleware makes when the
    /// pipeline is built.
    /// </summary>
    public void Start(EndpointDataSource? endpoints)
    {
        if (_endpoints is not null || (_plan is not null && endpoints is null))
        {
            return;
        }

        lock (_gate)
        {
            if (_endpoints is not null || (_plan is not null && endpoints is null))
            {
                return;
            }

            var problems = new List<string>();
            var plan = _plan;
            if (plan is null)
            {
                plan = Compile(_options.CurrentValue, endpoints, problems);
            }
            else
            {
                // Compiled earlier without endpoints: the configuration in force now meets them for the first time.
                SluicePlan.CheckEndpoints(plan, endpoints!.Endpoints, Store.MaxLayersPerDecision, problems);
            }

            if (plan is null || problems.Count > 0)
            {
                throw new SluiceConfigurationException(problems);
            }

            if (endpoints is not null)
            {
                _endpoints = endpoints;
                WarnOfUnusedLayers(plan, endpoints);
            }

            if (_plan is null)
            {
                _plan = plan;
                _storeInUse = plan.Options.Store;
                _subscription = _options.OnChange(Reload);
            }
        }
    }

    /// <summary>Compiles a configuration without applying it; the plan is null when there are problems.</summary>
    public SluicePlan? Compile(SluiceOptions options, List<string> problems) => Compile(options, _endpoints, problems);

    private SluicePlan? Compile(SluiceOptions options, EndpointDataSource? endpoints, List<string> problems)
        => SluicePlan.Build(options, endpoints?.Endpoints, Store.MaxLayersPerDecision, problems);

    public void Dispose() => _subscription?.Dispose();

    private void Reload(SluiceOptions options)
    {
        lock (_gate)
        {
            ReloadLocked(options);
        }
    }

    private void ReloadLocked(SluiceOptions options)
    {
        // A file saved once often raises two change events: the second one changes nothing.
        if (_plan is { } current && OptionsEquality.Same(current.Options, options))
        {
            return;
        }

        var problems = new List<string>();
        var plan = Compile(options, problems);
        if (plan is null)
        {
            SluiceLog.ReloadRejected(_logger, string.Join(" ", problems));
            return;
        }

        _plan = plan;
        SluiceLog.Reloaded(_logger, plan.Layers.Count);
        if (!string.Equals(options.Store, _storeInUse, StringComparison.OrdinalIgnoreCase))
        {
            SluiceLog.StoreChangeNeedsRestart(_logger, $"{options.SectionPath}:Store", _storeInUse!, options.Store);
        }

        if (_endpoints is { } endpoints)
        {
            WarnOfUnusedLayers(plan, endpoints);
        }
    }

    /// <summary>Logs each endpoint layer that no mapped endpoint applies (event 7): most likely a forgotten <c>RequireRateLimit</c>.</summary>
    private void WarnOfUnusedLayers(SluicePlan plan, EndpointDataSource endpoints)
    {
        var used = new HashSet<CompiledLayer>(endpoints.Endpoints.SelectMany(e => plan.For(e).Layers));
        foreach (var (name, layer) in plan.Layers)
        {
            if (layer.Scope == SluiceLayerScope.Endpoint && !used.Contains(layer))
            {
                SluiceLog.UnusedEndpointLayer(_logger, $"{plan.Options.SectionPath}:Layers:{name}");
            }
        }
    }
}
