using System.Globalization;
using System.Text;
using Sluice.AspNetCore;

namespace Sluice.Server.Dns;

/// <summary>
/// deSEC's 429, byte for byte as Django REST Framework renders it:
/// <c>{"detail":"Request was throttled. Expected available in 1 second."}</c> (seconds rounded up, "second" singular
/// only for 1), <c>Content-Type: application/json</c>, and <c>Retry-After</c> with the same number.
/// </summary>
internal static class DeSecThrottle
{
    public static string Body(long seconds)
        => $"{{\"detail\":\"Request was throttled. Expected available in {seconds} second{(seconds == 1 ? string.Empty : "s")}.\"}}";

    /// <summary>The rejection callback for the DNS API's endpoints, whichever layer denied.</summary>
    public static async ValueTask OnRejected(RateLimitRejectedContext context, CancellationToken cancellationToken)
    {
        var seconds = Math.Max(1, context.RetryAfterSeconds ?? 1);
        await WriteAsync(context.HttpContext.Response, seconds, cancellationToken);
    }

    public static async ValueTask WriteAsync(HttpResponse response, long seconds, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(Body(seconds));
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, cancellationToken);
    }
}
