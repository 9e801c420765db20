namespace Sluice.Server.Dns;

/// <summary>deSEC's 429 as an endpoint result.</summary>
internal sealed class DeSecThrottledResult(long seconds) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext) => DeSecThrottle.WriteAsync(httpContext.Response, seconds, httpContext.RequestAborted).AsTask();
}
