using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sluice.Server.Tests;

/// <summary>
/// deSEC's <c>GET /api/v1/domains/?owns_qname=</c>: the caller's domain responsible for a DNS name, which ACME clients
/// ask for to know where an <c>_acme-challenge</c> record goes.
/// </summary>
public sealed class DnsResponsibleDomainTests : IAsyncLifetime
{
    private const string Domains = "/api/v1/domains/";

    // Two domains a page: three domains need pagination, and the filter must not.
    private readonly ServerHost _host = new(new() { ["Dns:PageSize"] = "2" });

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private Task<HttpClient> NewDnsClientAsync(params string[] domains) => _host.NewDnsClientAsync(domains);

    private static async Task<List<string?>> NamesAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await ServerHost.Json(response)).EnumerateArray().Select(d => d.GetProperty("name").GetString())];
    }

    [Theory]
    [InlineData("_acme-challenge.www.dev.example.net", "dev.example.net")]
    [InlineData("www.dev.example.net", "dev.example.net")]
    [InlineData("dev.example.net", "dev.example.net")]
    [InlineData("_acme-challenge.www.example.net", "example.net")]
    [InlineData("git.dev.example.net", "git.dev.example.net")]
    [InlineData("_acme-challenge.git.dev.example.net", "git.dev.example.net")]
    [InlineData("*.dev.example.net", "dev.example.net")]
    [InlineData("WWW.Dev.Example.NET", "dev.example.net")]
    [InlineData("example.net", "example.net")]
    public async Task TheFilter_AnswersTheLongestOfTheCallersDomainsThatHoldsTheName(string qname, string responsible)
    {
        // deSEC's own example: a name belongs to the deepest of the domains it is in.
        using var client = await NewDnsClientAsync("example.net", "dev.example.net", "git.dev.example.net");

        var names = await NamesAsync(await client.GetAsync(Domains + "?owns_qname=" + Uri.EscapeDataString(qname)));

        Assert.Equal([responsible], names);
    }

    [Theory]
    [InlineData("example.org")]
    [InlineData("net")]
    [InlineData("notexample.net")]
    [InlineData("")]
    [InlineData("exa mple.net")]
    [InlineData("www..example.net")]
    [InlineData("-www.example.net")]
    public async Task ANameNoDomainHolds_OrNotADnsName_GetsAnEmptyList(string qname)
    {
        using var client = await NewDnsClientAsync("example.net", "dev.example.net", "git.dev.example.net");

        var names = await NamesAsync(await client.GetAsync(Domains + "?owns_qname=" + Uri.EscapeDataString(qname)));

        Assert.Empty(names);
    }

    [Fact]
    public async Task AnotherAccountsDomain_IsNeverTheAnswer()
    {
        using var owner = await NewDnsClientAsync("example.net");
        using var stranger = await NewDnsClientAsync("dev.example.net");

        var forOwner = await NamesAsync(await owner.GetAsync(Domains + "?owns_qname=www.dev.example.net"));
        var forStranger = await NamesAsync(await stranger.GetAsync(Domains + "?owns_qname=www.example.net"));

        Assert.Equal(["example.net"], forOwner);
        Assert.Empty(forStranger);
    }

    [Fact]
    public async Task TheFilter_IsNotPaginated_WhereTheWholeListIs()
    {
        using var client = await NewDnsClientAsync("example.net", "dev.example.net", "git.dev.example.net");

        var unfiltered = await client.GetAsync(Domains);
        var filtered = await client.GetAsync(Domains + "?owns_qname=www.example.net");
        var withCursor = await client.GetAsync(Domains + "?cursor=&owns_qname=www.example.net");

        Assert.Equal(HttpStatusCode.BadRequest, unfiltered.StatusCode);
        Assert.Equal(["example.net"], await NamesAsync(filtered));
        Assert.False(filtered.Headers.Contains("Link"));
        Assert.Equal(["example.net"], await NamesAsync(withCursor));
        Assert.False(withCursor.Headers.Contains("Link"));
    }

    [Fact]
    public async Task ARepeatedFilter_TakesItsLastValue_AsDjangoDoes()
    {
        using var client = await NewDnsClientAsync("example.net", "dev.example.net");

        var names = await NamesAsync(await client.GetAsync(Domains + "?owns_qname=www.example.net&owns_qname=www.dev.example.net"));

        Assert.Equal(["dev.example.net"], names);
    }

    [Fact]
    public async Task TheFilter_IsARead_RatedAsOne()
    {
        using var client = await NewDnsClientAsync("example.net");

        var response = await client.GetAsync(Domains + "?owns_qname=www.example.net");

        Assert.Contains(response.Headers.GetValues("RateLimit").Single().Split(", "), item => item.StartsWith("\"dns_api_cheap/s\";r=9;", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheOpenApiDocument_DescribesTheFilter()
    {
        var document = await ServerHost.Json(await _host.Anonymous().GetAsync("/openapi/v1.json"));

        var parameters = document.GetProperty("paths").GetProperty("/api/v1/domains").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString());

        Assert.Contains("owns_qname", parameters);
    }
}
