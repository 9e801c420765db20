using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Sluice.AspNetCore.Diagnostics;

/// <summary>
/// Tags on the request's activity (ASP.NET Core's <c>Microsoft.AspNetCore.Hosting.HttpRequestIn</c> span, when a tracer
/// records it) for what a trace should show: <c>sluice.outcome</c> (<c>denied</c>, <c>store_unavailable</c>),
/// <c>sluice.layer</c> and <c>sluice.retry_after</c> (seconds) of a denial, and <c>sluice.shadow_denied</c> (the layers,
/// comma-separated) when a shadow layer would have denied. Allowed requests get no tags, so they cost nothing here;
/// keys are never tagged.
/// </summary>
internal static class SluiceTrace
{
    public static void Denied(HttpContext context, string? layer, int? retryAfterSeconds)
    {
        if (Of(context) is { } activity)
        {
            activity.SetTag("sluice.outcome", "denied");
            activity.SetTag("sluice.layer", layer);
            activity.SetTag("sluice.retry_after", retryAfterSeconds);
        }
    }

    public static void StoreUnavailable(HttpContext context, long retryAfterSeconds)
    {
        if (Of(context) is { } activity)
        {
            activity.SetTag("sluice.outcome", "store_unavailable");
            activity.SetTag("sluice.retry_after", retryAfterSeconds);
        }
    }

    public static void ShadowDenied(HttpContext context, string layer)
    {
        if (Of(context) is { } activity)
        {
            activity.SetTag("sluice.shadow_denied", activity.GetTagItem("sluice.shadow_denied") is string earlier ? earlier + "," + layer : layer);
        }
    }

    private static Activity? Of(HttpContext context)
        => (context.Features.Get<IHttpActivityFeature>()?.Activity ?? Activity.Current) is { IsAllDataRequested: true } activity ? activity : null;
}
