using System.Net;

namespace Sluice.Client.Tests;

/// <summary>
/// The far end for handler tests: answers each request with the next scripted response (200 once the script is
/// empty) and records when each request arrived on the fake clock.
/// </summary>
internal sealed class ScriptedServer(ManualTimeProvider time) : HttpMessageHandler
{
    private readonly Queue<Func<CancellationToken, Task<HttpResponseMessage>>> _script = new();
    private readonly List<(DateTimeOffset At, HttpMethod Method, string Path)> _received = [];

    public IReadOnlyList<(DateTimeOffset At, HttpMethod Method, string Path)> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public ScriptedServer Then(HttpStatusCode status, params (string Name, string Value)[] headers)
    {
        lock (_script)
        {
            _script.Enqueue(_ =>
            {
                var response = new HttpResponseMessage(status) { Content = new StringContent("{}") };
                foreach (var (name, value) in headers)
                {
                    response.Headers.TryAddWithoutValidation(name, value);
                }

                return Task.FromResult(response);
            });
        }

        return this;
    }

    /// <summary>Next, the connection fails as a refused or reset one does: the handler sees an <see cref="HttpRequestException"/>.</summary>
    public ScriptedServer ThenConnectionFails(HttpRequestError error = HttpRequestError.ConnectionError)
    {
        lock (_script)
        {
            _script.Enqueue(_ => Task.FromException<HttpResponseMessage>(new HttpRequestException(error, $"The request failed ({error}).")));
        }

        return this;
    }

    /// <summary>Next, the server never answers: the request waits until its cancellation token fires.</summary>
    public ScriptedServer ThenHangs()
    {
        lock (_script)
        {
            _script.Enqueue(static async token =>
            {
                await Task.Delay(Timeout.Infinite, token);
                throw new InvalidOperationException("unreachable");
            });
        }

        return this;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (_received)
        {
            _received.Add((time.GetUtcNow(), request.Method, request.RequestUri!.AbsolutePath));
        }

        Func<CancellationToken, Task<HttpResponseMessage>>? next;
        lock (_script)
        {
            _script.TryDequeue(out next);
        }

        return AnswerAsync(request, next, cancellationToken);
    }

    private static async Task<HttpResponseMessage> AnswerAsync(HttpRequestMessage request, Func<CancellationToken, Task<HttpResponseMessage>>? next, CancellationToken cancellationToken)
    {
        var response = next is null ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") } : await next(cancellationToken);
        response.RequestMessage = request;
        return response;
    }
}
