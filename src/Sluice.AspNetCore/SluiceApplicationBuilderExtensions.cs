using Sluice.AspNetCore.Middleware;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the Sluice middleware.</summary>
public static class SluiceApplicationBuilderExtensions
{
    /// <summary>
    /// Enforces the configured layers. Place it after routing (so endpoint metadata is known; with minimal hosting
    /// routing runs first by default), after authentication when a layer keys on the user or a claim, and before the
    /// endpoints. Routing placed after it is logged once as an error (event 6): endpoint layers and
    /// <c>DisableRateLimit</c> cannot apply then. The configuration is checked against every mapped
    /// endpoint when the pipeline is built: an invalid one stops startup with a <see cref="Sluice.AspNetCore.SluiceConfigurationException"/> listing every problem.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>AddSluice</c> was not called.</exception>
    public static IApplicationBuilder UseSluice(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetService(typeof(SluiceRuntime)) is null)
        {
            throw new InvalidOperationException("Sluice's services are not registered: call builder.Services.AddSluice(...) before app.UseSluice().");
        }

        return app.UseMiddleware<SluiceMiddleware>();
    }
}
