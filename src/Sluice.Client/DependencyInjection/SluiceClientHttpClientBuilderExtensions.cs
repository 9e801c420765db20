using Microsoft.Extensions.Options;
using Sluice.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="SluiceClientHandler"/> on an <see cref="IHttpClientBuilder"/>.</summary>
public static class SluiceClientHttpClientBuilderExtensions
{
    /// <summary>HttpClient's own default timeout, which bounds the whole request, waits included.</summary>
    private static readonly TimeSpan DefaultHttpClientTimeout = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Adds the Sluice handler (pacing, header-aware retries) to this client, with options named after the client.
    /// Pacers are shared process-wide (<see cref="PacerRegistry.Shared"/>), so every client instance and caller of the
    /// same scope shares learned limits and pauses.
    /// </summary>
    /// <remarks>
    /// HttpClient's default <see cref="HttpClient.Timeout"/> of 100 seconds covers the whole request, so it would cancel
    /// a request that waits its turn in a slow scope (deSEC's 15 writes a minute) long before
    /// <see cref="SluiceClientOptions.MaxWait"/>, with a <see cref="TaskCanceledException"/> instead of
    /// <see cref="SluiceRateLimitedException"/>. A client left at that default therefore gets
    /// <see cref="Timeout.InfiniteTimeSpan"/>, and <see cref="SluiceClientOptions.AttemptTimeout"/> (100 seconds by
    /// default) bounds each attempt instead. A timeout set on the client (other than 100 seconds) is kept.
    /// </remarks>
    public static IHttpClientBuilder AddSluiceClient(this IHttpClientBuilder builder, Action<SluiceClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (configure is not null)
        {
            builder.Services.Configure(builder.Name, configure);
        }

        builder.ConfigureHttpClient(static client =>
        {
            if (client.Timeout == DefaultHttpClientTimeout)
            {
                client.Timeout = Timeout.InfiniteTimeSpan;
            }
        });

        return builder.AddHttpMessageHandler(sp => new SluiceClientHandler(sp.GetRequiredService<IOptionsMonitor<SluiceClientOptions>>().Get(builder.Name)));
    }
}
