using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Sluice.Server.Tests;

/// <summary>
/// The test host leaves the remote address empty, and Sluice skips IP-keyed layers for a request without one:
/// give every request the loopback address Kestrel would report for a local client.
/// </summary>
internal sealed class LoopbackClientStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, following) =>
        {
            context.Connection.RemoteIpAddress ??= IPAddress.Loopback;
            return following(context);
        });
        next(app);
    };
}
