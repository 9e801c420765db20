using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Sluice.Server.Tests;

/// <summary>
/// deSEC's cursor pagination of the domain and RRset lists, with a page of 3 instead of 500. Both lists run newest first,
/// as deSEC's do ("in reverse chronological order of their creation"), so the tests write one RRset at a time.
/// </summary>
public sealed class DnsPaginationTests : IAsyncLifetime
{
    private const string Domains = "/api/v1/domains/";
    private const string RRsets = "/api/v1/domains/example.com/rrsets/";

    private readonly ServerHost _host = new(new()
    {
        ["Dns:PageSize"] = "3",
        // Reads and writes as fast as the tests send them.
        ["Sluice:Layers:dns_api_per_domain_expensive:Rates:0"] = "100/s",
        ["Sluice:Layers:dns_api_cheap:Rates:0"] = "1000/s",
        ["Sluice:Layers:dns_api_cheap:Rates:1"] = "1000/min",
    });

    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var account = await _host.CreateAccountAsync();
        var (_, key) = await _host.CreateKeyAsync(account);
        _client = _host.Anonymous();
        _client.DefaultRequestHeaders.Add("Authorization", "Token " + key);
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync(Domains, new { name = "example.com" })).StatusCode);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private async Task WriteAsync(params (string Subname, string Type)[] rrsets)
    {
        var body = rrsets.Select(r => new { subname = r.Subname, type = r.Type, ttl = 3600, records = new[] { r.Type == "A" ? "192.0.2.1" : "\"v\"" } }).ToArray();
        var response = await _client.PatchAsJsonAsync(RRsets, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Writes the RRsets one request each, in order: each is newer than the one before.</summary>
    private async Task WriteEachAsync(params (string Subname, string Type)[] rrsets)
    {
        foreach (var rrset in rrsets)
        {
            await WriteAsync(rrset);
        }
    }

    private static (string Subname, string Type)[] Txt(params string[] subnames) => subnames.Select(s => (s, "TXT")).ToArray();

    private static Dictionary<string, string> Links(HttpResponseMessage response)
        => response.Headers.TryGetValues("Link", out var values)
            ? values.Single().Split(", ").Select(l => l.Split("; rel=")).ToDictionary(p => p[1].Trim('"'), p => p[0].TrimStart('<').TrimEnd('>'))
            : [];

    private static async Task<List<string>> Names(HttpResponseMessage response, string field = "subname")
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.EnumerateArray().Select(e => e.GetProperty(field).GetString()! + (field == "subname" ? "/" + e.GetProperty("type").GetString() : "")).ToList();
    }

    [Fact]
    public async Task AListThatFitsInOnePage_IsAnsweredWhole_WithOrWithoutACursor_AndWithoutALink()
    {
        await WriteEachAsync(Txt("a", "b", "c"));

        var plain = await _client.GetAsync(RRsets);
        var first = await _client.GetAsync(RRsets + "?cursor=");

        Assert.Equal(["c/TXT", "b/TXT", "a/TXT"], await Names(plain));
        Assert.Equal(["c/TXT", "b/TXT", "a/TXT"], await Names(first));
        Assert.Empty(Links(plain));
        Assert.Empty(Links(first));
    }

    [Fact]
    public async Task AListLongerThanAPage_WithoutACursor_IsRefusedWith400_AndALinkToItsFirstPage()
    {
        await WriteAsync(Txt("a", "b", "c", "d", "e", "f", "g"));

        var response = await _client.GetAsync(RRsets);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            "Pagination required. You can query up to 3 items at a time (7 total). Please use the `first` page link (see Link header).",
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal("<http://localhost/api/v1/domains/example.com/rrsets/?cursor=>; rel=\"first\"", response.Headers.GetValues("Link").Single());
    }

    [Fact]
    public async Task NextLinks_GiveEveryRRsetOnce_NewestFirst_AndPrevLinks_WalkBackThroughTheSamePages()
    {
        await WriteEachAsync([("b", "TXT"), ("a", "TXT"), ("a", "A"), ("c", "TXT"), ("", "TXT"), ("d", "TXT"), ("c", "A")]);

        var forward = new List<List<string>>();
        var relations = new List<string>();
        HttpResponseMessage page = await _client.GetAsync(RRsets + "?cursor=");
        while (true)
        {
            forward.Add(await Names(page));
            var links = Links(page);
            relations.Add(string.Join(",", links.Keys));
            Assert.Equal("http://localhost/api/v1/domains/example.com/rrsets/?cursor=", links["first"]);
            if (!links.TryGetValue("next", out var next))
            {
                break;
            }

            page = await _client.GetAsync(next);
        }

        var backward = new List<List<string>>();
        while (Links(page).TryGetValue("prev", out var previous))
        {
            page = await _client.GetAsync(previous);
            backward.Insert(0, await Names(page));
        }

        Assert.Equal([["c/A", "d/TXT", "/TXT"], ["c/TXT", "a/A", "a/TXT"], ["b/TXT"]], forward);
        Assert.Equal(["first,next", "first,prev,next", "first,prev"], relations);
        Assert.Equal(forward.Take(2), backward);
    }

    [Fact]
    public async Task APageAfterAnother_IsNotShifted_ByRRsetsWrittenOrDeletedBeforeIt()
    {
        await WriteEachAsync(Txt("b", "c", "d", "e", "f"));
        var first = await _client.GetAsync(RRsets + "?cursor=");
        Assert.Equal(["f/TXT", "e/TXT", "d/TXT"], await Names(first));

        // One RRset before the page boundary is added (the newest) and one deleted.
        await WriteAsync(Txt("a"));
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync(RRsets + "e/TXT/")).StatusCode);

        var second = await _client.GetAsync(Links(first)["next"]);

        Assert.Equal(["c/TXT", "b/TXT"], await Names(second));
    }

    [Fact]
    public async Task Links_KeepTheFilters()
    {
        await WriteEachAsync([("a", "TXT"), ("a", "A"), ("b", "TXT"), ("b", "A"), ("c", "TXT"), ("d", "TXT")]);

        var first = await _client.GetAsync(RRsets + "?type=TXT&cursor=");
        var next = Links(first)["next"];
        var second = await _client.GetAsync(next);

        Assert.Equal(["d/TXT", "c/TXT", "b/TXT"], await Names(first));
        Assert.Contains("type=TXT", next, StringComparison.Ordinal);
        Assert.Equal(["a/TXT"], await Names(second));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(RRsets + "?type=A")).StatusCode);
    }

    [Theory]
    [InlineData("zzz")]
    [InlineData("a")]
    [InlineData("a!!")]
    [InlineData("x" + "YQ")]
    [InlineData("a_w")]
    [InlineData("aYQ")]
    [InlineData("bLTE")]
    public async Task ACursorTheServerDidNotMake_IsAnswered404InvalidCursor(string cursor)
    {
        await WriteAsync(Txt("a"));

        var response = await _client.GetAsync(RRsets + "?cursor=" + cursor);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("""{"detail":"Invalid cursor"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheDomainList_IsPaginatedTheSameWay()
    {
        foreach (var name in new[] { "d.example", "a.example", "c.example", "b.example" })
        {
            Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync(Domains, new { name })).StatusCode);
        }

        var refused = await _client.GetAsync(Domains);
        var first = await _client.GetAsync(Domains + "?cursor=");
        var second = await _client.GetAsync(Links(first)["next"]);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("(5 total)", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["b.example", "c.example", "a.example"], await Names(first, "name"));
        Assert.Equal(["d.example", "example.com"], await Names(second, "name"));
        Assert.Equal(["first", "prev"], Links(second).Keys);
    }
}
