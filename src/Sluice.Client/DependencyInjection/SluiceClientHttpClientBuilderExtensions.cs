using Microsoft.Extensions.Options;
using Sluice.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="SluiceClientHandler"/> on an <see cref="IHttpClientBuilder"/>.</summary>
public static class SluiceClientHttpClientBuilderExtensions
{
    /// <summary>
    /// Adds the Sluice handler (pacing, header-aware retries) to this client, with options named after the client.
    /// Pacers are shared process-wide (<see cref="PacerRegistry.Shared"/>), so every client instance and caller of the
    /// same scope shares learned limits and pauses.
    /// </summary>
    public static IHttpClientBuilder AddSluiceClient(this IHttpClientBuilder builder, Action<SluiceClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (configure is not null)
        {
            builder.Services.Configure(builder.Name, configure);
        }

        return builder.AddHttpMessageHandler(sp => new SluiceClientHandler(sp.GetRequiredService<IOptionsMonitor<SluiceClientOptions>>().Get(builder.Name)));
    }
}
