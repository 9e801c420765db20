using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Sluice.Server.Tests;

/// <summary>
/// Records, for every request the server answers, its method, the route pattern of the endpoint it reached (as the
/// OpenAPI document writes paths: no constraints, no catch-all stars, no trailing slash) and the status it answered.
/// </summary>
public sealed class StatusRecorder : IStartupFilter
{
    public ConcurrentBag<(string Method, string Path, int Status)> Answers { get; } = [];

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, following) =>
        {
            await following(context);
            if (context.GetEndpoint() is RouteEndpoint endpoint)
            {
                Answers.Add((context.Request.Method.ToLowerInvariant(), OpenApiPath(endpoint.RoutePattern.RawText!), context.Response.StatusCode));
            }
        });
        next(app);
    };

    /// <summary><c>/admin/accounts/{id:long}/usage</c> → <c>/admin/accounts/{id}/usage</c>; <c>{**path}</c> → <c>{path}</c>.</summary>
    public static string OpenApiPath(string pattern)
    {
        var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{\*{0,2}([A-Za-z_]+)(:[^}]*)?\}", "{$1}");
        path = path.Length > 1 ? path.TrimEnd('/') : path;
        return path.StartsWith('/') ? path : "/" + path;
    }
}
