using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sluice.Client.Dns;

/// <summary>
/// A typed client for deSEC's DNS API (and the Sluice reference server, which speaks it). Give it an
/// <see cref="HttpClient"/> whose base address is the server and whose handler chain includes
/// <see cref="SluiceClientHandler"/> to be paced and retried; authentication is <c>Authorization: Token</c>.
/// </summary>
public sealed partial class DnsApiClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly HttpClient _http;
    private readonly string? _token;

    /// <summary>
    /// Wraps <paramref name="http"/>; when <paramref name="token"/> is given it is sent as <c>Authorization: Token</c> on
    /// each request this client makes, and only on those: <paramref name="http"/> itself is not changed, so an
    /// <see cref="HttpClient"/> shared with other code never carries the token to other requests or hosts. Without a
    /// token, requests carry whatever <paramref name="http"/>'s default headers hold.
    /// </summary>
    public DnsApiClient(HttpClient http, string? token = null)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _token = token;
    }

    /// <summary>The domain, or null when it does not exist (or is not the caller's).</summary>
    public async Task<DnsDomain?> GetDomainAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, $"api/v1/domains/{Segment(name)}/", null, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await Read<DnsDomain>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a domain.</summary>
    public async Task<DnsDomain> CreateDomainAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/v1/domains/", JsonContent.Create(new { name }, options: Json), cancellationToken).ConfigureAwait(false);
        return await Read<DnsDomain>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a domain and its RRsets.</summary>
    public async Task DeleteDomainAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"api/v1/domains/{Segment(name)}/", null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccess(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The caller's domains, every page of them: deSEC answers at most 500 per request, and this follows its
    /// <c>Link</c> headers (see <see cref="ListRRsetsAsync"/>).
    /// </summary>
    public async Task<IReadOnlyList<DnsDomain>> ListDomainsAsync(CancellationToken cancellationToken = default)
        => await ListAsync<DnsDomain>("api/v1/domains/?cursor=", cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The caller's domain responsible for the DNS name <paramref name="qname"/> (deSEC's <c>owns_qname</c> filter): the
    /// longest of the caller's domains that the name is in or under, such as where an ACME client must write
    /// <c>_acme-challenge.www.dev.example.net</c> when the caller has both <c>example.net</c> and
    /// <c>dev.example.net</c>; null when none is, or when <paramref name="qname"/> is not a DNS name. One request.
    /// </summary>
    public async Task<DnsDomain?> GetResponsibleDomainAsync(string qname, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(qname);
        using var response = await SendAsync(HttpMethod.Get, "api/v1/domains/?owns_qname=" + Uri.EscapeDataString(qname), null, cancellationToken).ConfigureAwait(false);
        return (await Read<List<DnsDomain>>(response, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
    }

    /// <summary>
    /// The domain's RRsets, optionally only those of one subname or type, every page of them. deSEC answers a list at
    /// most 500 items at a time and refuses a longer one asked for without a cursor (400 "Pagination required"), so this
    /// always asks for the first page (<c>cursor=</c>) and follows the <c>Link</c> header's <c>next</c> page, one request
    /// per page, each paced and retried by the handler chain like any other. A <c>next</c> link to another scheme, host
    /// or port than the request's is refused with <see cref="InvalidOperationException"/> before anything is sent to it,
    /// since the token would go with it.
    /// </summary>
    public async Task<IReadOnlyList<RRset>> ListRRsetsAsync(string domain, string? subname = null, string? type = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string> { "cursor=" };
        if (subname is not null)
        {
            query.Add("subname=" + Uri.EscapeDataString(subname));
        }

        if (type is not null)
        {
            query.Add("type=" + Uri.EscapeDataString(type));
        }

        return await ListAsync<RRset>($"api/v1/domains/{Segment(domain)}/rrsets/?{string.Join('&', query)}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one RRset in its own request (PUT semantics through a one-item bulk PATCH, so it is created if missing); empty records delete it.</summary>
    public async Task<RRset?> WriteRRsetAsync(string domain, RRsetWrite rrset, CancellationToken cancellationToken = default)
    {
        var written = await WriteRRsetsAsync(domain, [rrset], cancellationToken).ConfigureAwait(false);
        return written.Count > 0 ? written[0] : null;
    }

    /// <summary>
    /// One bulk PATCH of <paramref name="rrsets"/> to one domain: all applied or none. Returns the RRsets that exist
    /// afterwards (deleted ones left out). A refusal throws <see cref="DnsApiException"/> with the per-item errors.
    /// </summary>
    public async Task<IReadOnlyList<RRset>> WriteRRsetsAsync(string domain, IReadOnlyList<RRsetWrite> rrsets, CancellationToken cancellationToken = default)
    {
        var content = JsonContent.Create(rrsets.Select(r => new { subname = r.Subname, type = r.Type, ttl = r.Ttl, records = r.Records }).ToList(), options: Json);
        using var response = await SendAsync(HttpMethod.Patch, $"api/v1/domains/{Segment(domain)}/rrsets/", content, cancellationToken).ConfigureAwait(false);
        return await Read<List<RRset>>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends one request of this client, with its token when it has one.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", _token);
        }

        return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every page of a list, from its first page's URL, following <c>Link: &lt;…&gt;; rel="next"</c>.</summary>
    private async Task<List<T>> ListAsync<T>(string url, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        for (string? next = url; next is not null;)
        {
            using var response = await SendAsync(HttpMethod.Get, next, null, cancellationToken).ConfigureAwait(false);
            items.AddRange(await Read<List<T>>(response, cancellationToken).ConfigureAwait(false));
            var sent = response.RequestMessage?.RequestUri is { IsAbsoluteUri: true } final ? final
                : Uri.TryCreate(next, UriKind.Absolute, out var absolute) ? absolute
                : new Uri(_http.BaseAddress!, next);
            next = NextPage(response, sent);
            if (next is not null && !visited.Add(next))
            {
                throw new InvalidOperationException($"The server linked to a page already read ({next}); the list was not read to its end.");
            }
        }

        return items;
    }

    /// <summary>The <c>next</c> link of a response, checked to stay on the request's origin; null on the last page.</summary>
    private static string? NextPage(HttpResponseMessage response, Uri from)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            foreach (System.Text.RegularExpressions.Match link in LinkPattern().Matches(value))
            {
                if (!link.Groups["rel"].Value.Split(' ').Contains("next", StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (!Uri.TryCreate(from, link.Groups["url"].Value, out var target)
                    || Uri.Compare(from, target, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) != 0)
                {
                    throw new InvalidOperationException($"The server's next page ({link.Groups["url"].Value}) is not on {from.GetLeftPart(UriPartial.Authority)}; it was not requested, so that the token is not sent elsewhere.");
                }

                return target.AbsoluteUri;
            }
        }

        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex("""<(?<url>[^>]*)>\s*;\s*rel\s*=\s*"?(?<rel>[^";,]*)"?""")]
    private static partial System.Text.RegularExpressions.Regex LinkPattern();

    /// <summary>
    /// A domain as one path segment. A name that would leave it (<c>..</c>, a slash, a query, a fragment, or an escape
    /// that the URI would undo) is refused before anything is sent: the request would reach another endpoint.
    /// </summary>
    private static string Segment(string domain, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(domain))] string? parameter = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain, parameter);
        if (domain is "." or ".." || domain.AsSpan().IndexOfAny("/\\?#%") >= 0)
        {
            throw new ArgumentException($"'{domain}' is not a domain name.", parameter);
        }

        return Uri.EscapeDataString(domain);
    }

    private static async Task<T> Read<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccess(response, cancellationToken).ConfigureAwait(false);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task EnsureSuccess(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            throw new DnsApiException(response.StatusCode, body);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Array)
            {
                throw new DnsApiException(response.StatusCode, body, itemErrors: document.RootElement.EnumerateArray().Select(Errors).ToList());
            }

            throw new DnsApiException(response.StatusCode, body, errors: Errors(document.RootElement));
        }
        catch (JsonException)
        {
            throw new DnsApiException(response.StatusCode, body);
        }
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<string>> Errors(JsonElement element)
    {
        var errors = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (element.ValueKind != JsonValueKind.Object)
        {
            return errors;
        }

        foreach (var property in element.EnumerateObject())
        {
            errors[property.Name] = property.Value.ValueKind == JsonValueKind.Array
                ? property.Value.EnumerateArray().Select(v => v.ToString()).ToList()
                : [property.Value.ToString()];
        }

        return errors;
    }
}
