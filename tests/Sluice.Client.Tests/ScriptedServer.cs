using System.Net;

namespace Sluice.Client.Tests;

/// <summary>
/// The far end for handler tests: answers each request with the next scripted response (200 once the script is
/// empty) and records when each request arrived on the fake clock.
/// </summary>
internal sealed class ScriptedServer(ManualTimeProvider time) : HttpMessageHandler
{
    private readonly Queue<Func<HttpResponseMessage>> _script = new();
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
            _script.Enqueue(() =>
            {
                var response = new HttpResponseMessage(status) { Content = new StringContent("{}") };
                foreach (var (name, value) in headers)
                {
                    response.Headers.TryAddWithoutValidation(name, value);
                }

                return response;
            });
        }

        return this;
    }

    /// <summary>Next, the connection fails as a refused or reset one does: the handler sees an <see cref="HttpRequestException"/>.</summary>
    public ScriptedServer ThenConnectionFails(HttpRequestError error = HttpRequestError.ConnectionError)
    {
        lock (_script)
        {
            _script.Enqueue(() => throw new HttpRequestException(error, $"The request failed ({error})."));
        }

        return this;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (_received)
        {
            _received.Add((time.GetUtcNow(), request.Method, request.RequestUri!.AbsolutePath));
        }

        Func<HttpResponseMessage>? next;
        lock (_script)
        {
            _script.TryDequeue(out next);
        }

        HttpResponseMessage response;
        try
        {
            response = next?.Invoke() ?? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        }
        catch (HttpRequestException e)
        {
            return Task.FromException<HttpResponseMessage>(e);
        }

        response.RequestMessage = request;
        return Task.FromResult(response);
    }
}
