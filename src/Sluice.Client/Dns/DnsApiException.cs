using System.Net;

namespace Sluice.Client.Dns;

/// <summary>
/// The DNS API refused a request. For a bulk write, <see cref="ItemErrors"/> holds the server's per-item errors in
/// request order (an empty dictionary for items that were fine); otherwise <see cref="Errors"/> holds the field errors.
/// </summary>
public sealed class DnsApiException : HttpRequestException
{
    /// <summary>Creates the exception.</summary>
    public DnsApiException(HttpStatusCode status, string body, IReadOnlyDictionary<string, IReadOnlyList<string>>? errors = null, IReadOnlyList<IReadOnlyDictionary<string, IReadOnlyList<string>>>? itemErrors = null)
        : base($"The DNS API answered {(int)status}: {body}", null, status)
    {
        Body = body;
        Errors = errors ?? new Dictionary<string, IReadOnlyList<string>>();
        ItemErrors = itemErrors;
    }

    /// <summary>The response body as sent.</summary>
    public string Body { get; }

    /// <summary>Field errors of a single-object request (<c>{"ttl": ["..."]}</c>), or of one item of a bulk request.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Errors { get; }

    /// <summary>Per-item errors of a bulk request, in request order; null when the answer was not a list.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, IReadOnlyList<string>>>? ItemErrors { get; }
}
