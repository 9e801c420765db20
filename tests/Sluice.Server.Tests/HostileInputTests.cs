using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Server.Tests;

/// <summary>
/// Every endpoint the server maps, found from its own endpoint data source (so a new endpoint is swept without touching
/// this file), gets malformed bodies, wrong content types and hostile route values and query strings. None may answer
/// 5xx, and every error body must be a JSON object (or, for deSEC's bulk writes, an array).
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    // Every layer's limits are out of reach, so that the limiter lets each request through to the endpoint's own
    // validation (the limiter still runs on every request, keys and all).
    private static readonly Dictionary<string, string?> OutOfReach = new[]
    {
        "global-ip", "api-key", "auth", "dns_api_per_domain_expensive", "dns_api_expensive", "dns_api_cheap", "user",
    }.SelectMany(layer => new[] { "1000000/s", "1000000/min", "1000000/h", "1000000/day" }
        .Select((rate, i) => KeyValuePair.Create($"Sluice:Layers:{layer}:Rates:{i}", (string?)rate)))
        .ToDictionary();

    private static readonly string[] LongValues = ["1", "0", "-1", "99999999999999999999", "abc", "1.5", "%01"];

    private static readonly string[] NameValues =
    [
        "example.com", "EXAMPLE.COM", "..", ".", "-a-.com", new string('a', 300) + ".com", "%01", "%C3%A9t%C3%A9.com",
        "a%20b.com", "%2e%2e", "xn--", "example.com%0d%0aX-Injected:1",
    ];

    private static readonly string[] PathValues =
    [
        "www/A/", "@/TXT/", "/TXT/", "www/A", "www/a/", "www/TYPE99999/", "x/y/z/w/", "%2F/A/", "www/A/extra/", new string('s', 300) + "/TXT/",
        "..%2F../A/", "%01/A/",
    ];

    private static readonly string[] Queries = ["", "?page=-1", "?page=abc&per_page=100000000000", "?per_page=0", "?cursor=%ZZ", "?page=99999999999"];

    private static readonly (string? Body, string? Type)[] Bodies =
    [
        (null, null),
        ("", "application/json"),
        ("{", "application/json"),
        ("{}", "application/json"),
        ("[]", "application/json"),
        ("null", "application/json"),
        ("\"x\"", "application/json"),
        ("12", "application/json"),
        ("{\"name\":123,\"plan\":[1],\"email\":{}}", "application/json"),
        ("{\"name\":\"" + new string('n', 10_000) + "\",\"plan\":\"free\"}", "application/json"),
        ("{\"name\":\"\\u0000\\ud800\",\"plan\":\"nope\"}", "application/json"),
        ("{\"name\":\"" + new string('n', 20_000) + ".com\",\"plan\":\"" + new string('p', 20_000) + "\"}", "application/json"),
        ("{\"rates\":[\"" + new string('9', 20_000) + "/fortnight\"]}", "application/json"),
        ("{\"recipient_email\":\"" + new string('e', 20_000) + "\",\"recipient_name\":\"n\",\"course\":\"c\"}", "application/json"),
        ("[{\"subname\":\"" + new string('-', 20_000) + "\",\"type\":\"A\",\"ttl\":3600,\"records\":[\"" + new string('9', 20_000) + "\"]}]", "application/json"),
        ("[{\"subname\":\"mx\",\"type\":\"MX\",\"ttl\":3600,\"records\":[\"" + new string('m', 20_000) + "\"]},{\"subname\":\"t\",\"type\":\"TXT\",\"ttl\":3600,\"records\":[\"\\\"" + new string('t', 20_000) + "\"]}]", "application/json"),
        (new string('e', 20_000) + ",recipient_name,course\n", "text/csv"),
        ("{\"rates\":[\"abc\",\"0/s\",\"-1/min\",\"99999999999999999999/s\",null]}", "application/json"),
        ("{\"rates\":\"60/min\"}", "application/json"),
        ("{\"rates\":[\"5/500us\",\"1/1us\"]}", "application/json"),
        ("{\"monthly_recipients\":-1}", "application/json"),
        ("{\"monthly_recipients\":1e400}", "application/json"),
        ("{\"monthly_recipients\":\"many\"}", "application/json"),
        ("{\"recipient_email\":\"not-an-email\",\"recipient_name\":null,\"course\":7}", "application/json"),
        ("[{\"subname\":null,\"type\":\"TXT\",\"ttl\":\"x\",\"records\":[1]}]", "application/json"),
        ("[{\"subname\":\"a\",\"type\":\"A\",\"ttl\":1e30,\"records\":[\"999.1.1.1\"]},{}]", "application/json"),
        ("{\"subname\":\"a\",\"type\":\"TXT\",\"ttl\":-5,\"records\":\"x\"}", "application/json"),
        ("{\"subname\":\"\\ud800\",\"type\":\"\\udc00\",\"ttl\":3600,\"records\":[\"\\ud800\"]}", "application/json"),
        ("[{\"subname\":\"a\",\"type\":\"TXT\",\"ttl\":3600,\"records\":[\"\\\"\\udfff\\\"\"]}]", "application/json"),
        (new string('[', 5_000) + new string(']', 5_000), "application/json"),
        ("\u00ff\u00fe{", "application/json; charset=latin1"),
        ("{\"name\":\"x\"}", "text/plain"),
        ("recipient_email,recipient_name,course\n\"unterminated,a,b\n", "text/csv"),
        ("a;b;c\n1;2;3\n", "text/csv"),
        ("recipient_email\n" + string.Join('\n', Enumerable.Range(0, 50).Select(i => $"x{i}")), "text/csv"),
        ("--x\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--x--\r\n", "multipart/form-data; boundary=x"),
        ("{}", "application/x-www-form-urlencoded"),
    ];

    private const int MaxErrorBody = 4096;

    private readonly ServerHost _host = new(OutOfReach);
    private long _account;
    private string _key = "";

    public async Task InitializeAsync() => _account = await _host.CreateAccountAsync();

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task NoEndpoint_AnswersAServerError_ToMalformedBodiesOrRouteValues_AndEveryErrorBodyIsJson()
    {
        var endpoints = _host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.StartsWith("/openapi", StringComparison.Ordinal))
            .ToList();
        var failures = new List<string>();
        var sent = 0;
        var statuses = new Dictionary<int, int>();
        using var client = _host.Anonymous();

        foreach (var endpoint in endpoints)
        {
            // A fresh key each time: the admin endpoints' sweep revokes keys by id.
            (_, _key) = await _host.CreateKeyAsync(_account);
            await EnsureDomainAsync(client);
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods)
            {
                foreach (var path in Paths(endpoint.RoutePattern))
                {
                    foreach (var (body, type) in method is "GET" or "HEAD" or "DELETE" ? Bodies.Take(2) : Bodies)
                    {
                        using var request = new HttpRequestMessage(new HttpMethod(method), path);
                        request.Headers.Authorization = new AuthenticationHeaderValue(
                            path.StartsWith("/admin", StringComparison.Ordinal) ? "Bearer" : "Token",
                            path.StartsWith("/admin", StringComparison.Ordinal) ? ServerHost.AdminToken : _key);
                        if (body is not null)
                        {
                            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
                            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type!);
                        }

                        using var response = await client.SendAsync(request);
                        sent++;
                        statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                        var problem = await Problem(response);
                        if (problem is not null)
                        {
                            failures.Add($"{method} {path} [{type}] {Shorten(body)}: {problem}");
                        }
                    }
                }
            }
        }

        Assert.True(endpoints.Count >= 20, $"only {endpoints.Count} endpoints were found");
        Assert.True(sent > 1000, $"only {sent} requests were sent");
        // The sweep reached the endpoints' own validation, not only the authentication or the router in front of it.
        var histogram = string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"));
        Assert.True(statuses.GetValueOrDefault(400) > sent / 8, histogram);
        Assert.True(statuses.GetValueOrDefault(401) + statuses.GetValueOrDefault(429) == 0, histogram);
        Assert.True(statuses.Keys.Count(s => s is >= 200 and < 300) >= 2, histogram);
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests failed:\n" + string.Join('\n', failures.Take(40)));
    }

    [Fact]
    public async Task NoEndpoint_AnswersAServerError_ToHostileCredentialsOrForwardingHeaders()
    {
        var endpoints = _host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.StartsWith("/openapi", StringComparison.Ordinal))
            .ToList();
        (string Name, string Value)[][] headerSets =
        [
            [("Authorization", "Bearer ")],
            [("Authorization", "Token " + new string('k', 20_000))],
            [("Authorization", "Basic Zm9vOmJhcg==")],
            [("Authorization", "Bearer a b c")],
            [("Authorization", "Token \u00e9\u00e8")],
            [("X-API-Key", "")],
            [("X-API-Key", new string('k', 20_000))],
            [("X-Forwarded-For", "garbage, 1.2.3.4:99999, [::1]:x, ,,,")],
            [("X-Forwarded-For", string.Join(',', Enumerable.Repeat("203.0.113.9", 2_000)))],
            [("Content-Length", "0"), ("Authorization", "Token nope")],
        ];
        var failures = new List<string>();
        var sent = 0;
        using var client = _host.Anonymous();

        foreach (var endpoint in endpoints)
        {
            var method = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods[0] ?? "GET";
            var path = Paths(endpoint.RoutePattern).First();
            foreach (var headers in headerSets)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                foreach (var (name, value) in headers)
                {
                    if (name == "Content-Length")
                    {
                        request.Content = new ByteArrayContent([]);
                    }
                    else
                    {
                        request.Headers.TryAddWithoutValidation(name, value);
                    }
                }

                using var response = await client.SendAsync(request);
                sent++;
                if (await Problem(response) is { } problem)
                {
                    failures.Add($"{method} {path} with {string.Join("; ", headers.Select(h => $"{h.Name}: {Shorten(h.Value)}"))}: {problem}");
                }
            }
        }

        Assert.True(sent >= 200, $"only {sent} requests were sent");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests failed:\n" + string.Join('\n', failures.Take(40)));
    }

    /// <summary>
    /// Creates example.com and its www A RRset again when an endpoint before deleted them, so that the DNS endpoints
    /// reach their validation instead of answering 404.
    /// </summary>
    private async Task EnsureDomainAsync(HttpClient client)
    {
        foreach (var (method, path, body) in new[]
        {
            ("POST", "/api/v1/domains/", "{\"name\":\"example.com\"}"),
            ("PUT", "/api/v1/domains/example.com/rrsets/", "[{\"subname\":\"www\",\"type\":\"A\",\"ttl\":3600,\"records\":[\"192.0.2.1\"]}]"),
        })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", _key);
            using var response = await client.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode || (method == "POST" && (int)response.StatusCode == 400), $"{method} {path} answered {(int)response.StatusCode}");
        }
    }

    /// <summary>What is wrong with the response, or null.</summary>
    private static async Task<string?> Problem(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        if (status >= 500)
        {
            return $"{status} {Shorten(text)}";
        }

        if (status < 400 || text.Length == 0)
        {
            return null;
        }

        // An error about a huge value stays small: messages quote at most the start of what the client sent.
        if (text.Length > MaxErrorBody)
        {
            return $"{status} with a {text.Length}-character error body: {Shorten(text)}";
        }

        var media = response.Content.Headers.ContentType?.MediaType;
        if (media is not ("application/json" or "application/problem+json"))
        {
            return $"{status} with a {media ?? "untyped"} body: {Shorten(text)}";
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            // deSEC answers a bulk write's errors as an array, one object per item.
            return document.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? null : $"{status} body is neither an object nor an array: {Shorten(text)}";
        }
        catch (JsonException)
        {
            return $"{status} body is not JSON: {Shorten(text)}";
        }
    }

    /// <summary>The pattern with each parameter replaced by each hostile value (one parameter varied at a time).</summary>
    private static IEnumerable<string> Paths(RoutePattern pattern)
    {
        var parameters = pattern.Parameters.ToList();
        var queries = pattern.RawText!.Contains("{id") || pattern.RawText.EndsWith("/certificates", StringComparison.Ordinal) ? Queries : Queries.Take(1);
        for (var varied = 0; varied < Math.Max(1, parameters.Count); varied++)
        {
            var values = parameters.Count == 0 ? [""] : Values(parameters[varied]);
            foreach (var value in values)
            {
                var text = pattern.RawText!;
                for (var i = 0; i < parameters.Count; i++)
                {
                    var parameter = parameters[i];
                    var replacement = i == varied ? value : Values(parameter)[0];
                    text = System.Text.RegularExpressions.Regex.Replace(text, $"\\{{\\*{{0,2}}{parameter.Name}(:[^}}]*)?\\}}", replacement.Replace("$", "$$", StringComparison.Ordinal));
                }

                foreach (var query in queries)
                {
                    yield return text.Replace("//", "/", StringComparison.Ordinal) + query;
                }
            }
        }
    }

    private static string[] Values(RoutePatternParameterPart parameter) => parameter switch
    {
        { IsCatchAll: true } => PathValues,
        { Name: "name" } => NameValues,
        _ => LongValues,
    };

    private static string Shorten(string? text) => text is null ? "(no body)" : text.Length <= 80 ? text : text[..80] + "…";
}
