using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Server.Dns;

namespace Sluice.Server.Tests;

public sealed class DnsApiTests : IAsyncLifetime
{
    private const string Domains = "/api/v1/domains/";

    private readonly ServerHost _host = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private static object TxtRRset(string subname, string value = "token") => new { subname, type = "TXT", ttl = 3600, records = new[] { $"\"{value}\"" } };

    private static Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string url, string json)
        => client.SendAsync(new HttpRequestMessage(method, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") });

    private Task<HttpClient> NewDnsClientAsync(params string[] domains) => _host.NewDnsClientAsync(domains);

    private static string PolicyRemaining(HttpResponseMessage response, string policy)
    {
        var field = response.Headers.GetValues("RateLimit").Single().Split(", ").Single(f => f.StartsWith($"\"{policy}\"", StringComparison.Ordinal));
        return field.Split(';').Single(p => p.StartsWith("r=", StringComparison.Ordinal))[2..];
    }

    [Fact]
    public async Task TwentyRRsetsInOneBulkPatch_CountOnce()
    {
        using var client = await NewDnsClientAsync("example.com");

        var bulk = await client.PatchAsJsonAsync(Domains + "example.com/rrsets/", Enumerable.Range(0, 20).Select(i => TxtRRset($"_acme-challenge.name{i}")).ToArray());
        var second = await client.PatchAsJsonAsync(Domains + "example.com/rrsets/", Enumerable.Range(0, 20).Select(i => TxtRRset($"_acme-challenge.name{i}", "other")).ToArray());
        var listed = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/?type=TXT");

        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        Assert.Equal("1", PolicyRemaining(bulk, "dns_api_per_domain_expensive/s"));
        Assert.Equal("14", PolicyRemaining(bulk, "dns_api_per_domain_expensive/min"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(20, listed.GetArrayLength());
    }

    [Fact]
    public async Task TheThirdWriteToOneDomainWithinASecond_IsThrottled_WhileAnotherDomainIsNot()
    {
        using var client = await NewDnsClientAsync("example.com", "example.org");

        // Back-to-back writes, a few milliseconds apart as real requests are: the sliding window has 1000 segments
        // (1 ms for the per-second rate), so the wait rounds up to deSEC's "1 second", as lego saw it.
        var first = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("a"));
        _host.Time.Advance(TimeSpan.FromMilliseconds(3));
        var second = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("b"));
        _host.Time.Advance(TimeSpan.FromMilliseconds(3));
        var third = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("c"));
        var otherDomain = await client.PostAsJsonAsync(Domains + "example.org/rrsets/", TxtRRset("c"));
        var body = await third.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal(HttpStatusCode.Created, otherDomain.StatusCode);
        Assert.Equal("""{"detail":"Request was throttled. Expected available in 1 second."}""", body);
        Assert.Equal("1", third.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/json", third.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Domains + "example.com/rrsets/c/TXT/")).StatusCode);
    }

    [Fact]
    public async Task AThrottledWrite_PassesOnceTheSecondIsOver()
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("a"));
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("b"));
        var throttled = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("c"));

        _host.Time.Advance(TimeSpan.FromSeconds(int.Parse(throttled.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("c"))).StatusCode);
    }

    [Fact]
    public async Task TheMinuteLimit_Throttles_WithAPluralRetryAfter()
    {
        using var client = await NewDnsClientAsync("example.com");
        for (var i = 0; i < 15; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PatchAsJsonAsync(Domains + "example.com/rrsets/", new[] { TxtRRset("a", $"v{i}") })).StatusCode);
            _host.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var throttled = await client.PatchAsJsonAsync(Domains + "example.com/rrsets/", new[] { TxtRRset("a", "late") });
        var seconds = int.Parse(throttled.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.InRange(seconds, 2, 60);
        Assert.Equal($$"""{"detail":"Request was throttled. Expected available in {{seconds}} seconds."}""", await throttled.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReadsAreLimitedPerAccount()
    {
        using var reader = await NewDnsClientAsync("example.com");
        using var other = await NewDnsClientAsync("example.net");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(Domains + "example.com/rrsets/")).StatusCode);
        }

        var throttled = await reader.GetAsync(Domains);
        var write = await reader.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("a"));

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.StartsWith("{\"detail\":\"Request was throttled.", await throttled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync(Domains)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, write.StatusCode);
    }

    [Fact]
    public async Task ABulkRequestWithOneBadItem_ChangesNothing_AndReportsPerItemErrors()
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await client.PatchAsJsonAsync(Domains + "example.com/rrsets/", new object[]
        {
            TxtRRset("a"),
            new { subname = "www", type = "A", ttl = 3600, records = new[] { "300.1.2.3" } },
            TxtRRset("b"),
        });
        var errors = await response.Content.ReadFromJsonAsync<JsonElement>();
        var listed = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(3, errors.GetArrayLength());
        Assert.Empty(errors[0].EnumerateObject());
        Assert.Contains("IPv4", errors[1].GetProperty("records")[0].GetString(), StringComparison.Ordinal);
        Assert.Empty(errors[2].EnumerateObject());
        Assert.Equal(0, listed.GetArrayLength());
    }

    [Fact]
    public async Task DuplicatesInOneBulkRequest_AreRejected()
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new[] { TxtRRset("a"), TxtRRset("b"), TxtRRset("A", "other") });
        var errors = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("position(s) 2", errors[0].GetProperty("non_field_errors")[0].GetString(), StringComparison.Ordinal);
        Assert.Empty(errors[1].EnumerateObject());
        Assert.Contains("position(s) 0", errors[2].GetProperty("non_field_errors")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentWritesToOneDomain_NeverInterleave_AndWaitRatherThanFail()
    {
        await using var host = new ServerHost(new()
        {
            ["Sluice:Layers:dns_api_per_domain_expensive:Rates:0"] = "1000/s",
            ["Sluice:Layers:dns_api_per_domain_expensive:Rates:1"] = "1000/min",
        });
        var account = await host.CreateAccountAsync();
        var (_, key) = await host.CreateKeyAsync(account);
        using var client = host.Anonymous();
        client.DefaultRequestHeaders.Add("Authorization", "Token " + key);
        await client.PostAsJsonAsync(Domains, new { name = "example.com" });

        var writes = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(() =>
            client.PutAsJsonAsync(Domains + "example.com/rrsets/", Enumerable.Range(0, 10).Select(n => TxtRRset($"n{n}", $"writer{i}")).ToArray()))));
        var listed = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/");
        var values = listed.EnumerateArray().Select(r => r.GetProperty("records")[0].GetString()).Distinct().ToList();

        Assert.All(writes, w => Assert.Equal(HttpStatusCode.OK, w.StatusCode));
        Assert.Equal(1, host.Services.GetRequiredService<DomainWriteLocks>().MaxConcurrentWritersPerDomain);
        Assert.Single(values);
    }

    [Fact]
    public async Task Domains_CanBeCreatedListedReadAndDeleted()
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("a"));

        var listed = await client.GetFromJsonAsync<JsonElement>(Domains);
        var one = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/");
        var deleted = await client.DeleteAsync(Domains + "example.com/");
        var gone = await client.GetAsync(Domains + "example.com/");

        Assert.Equal("example.com", listed[0].GetProperty("name").GetString());
        Assert.Equal(3600, one.GetProperty("minimum_ttl").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("""{"detail":"Not found."}""", await gone.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"name":"not a domain"}""")]
    [InlineData("""{"name":"com"}""")]
    [InlineData("""{}""")]
    [InlineData("""{"name":5}""")]
    [InlineData("""{"name":null}""")]
    public async Task BadDomainNames_Get400_NamingTheField(string json)
    {
        using var client = await NewDnsClientAsync();

        var response = await Send(client, HttpMethod.Post, Domains, json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("name", out _));
    }

    [Theory]
    [InlineData("nonsense", "detail")]
    [InlineData("""{"name":"example.com""", "detail")]
    [InlineData("""["example.com"]""", "non_field_errors")]
    public async Task ADomainBodyThatIsNotAJsonObject_Gets400_InDeSecsShape(string json, string property)
    {
        using var client = await NewDnsClientAsync();

        var response = await Send(client, HttpMethod.Post, Domains, json);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(property, Assert.Single(body.EnumerateObject()).Name);
    }

    [Theory]
    [InlineData(null, "Authentication credentials were not provided.")]
    [InlineData("Token sk_unknown", "Invalid token.")]
    public async Task AMissingOrUnknownToken_Gets401_InDeSecsShape(string? authorization, string detail)
    {
        using var client = _host.Anonymous();
        using var request = new HttpRequestMessage(HttpMethod.Get, Domains);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Token", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal($$"""{"detail":"{{detail}}"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ATakenDomain_Gets400()
    {
        using var owner = await NewDnsClientAsync("example.com");
        using var other = await NewDnsClientAsync();

        var response = await other.PostAsJsonAsync(Domains, new { name = "example.com" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"name":["This domain name conflicts with an existing zone, or is disallowed by policy."]}""", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(_host.Logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task OneNameCreatedByEightAccountsAtOnce_IsCreatedOnce_AndTheOthersGet400_WithNoErrorLogged()
    {
        var clients = new List<HttpClient>();
        for (var i = 0; i < 8; i++)
        {
            clients.Add(await NewDnsClientAsync());
        }

        var responses = await Task.WhenAll(clients.Select(c => c.PostAsJsonAsync(Domains, new { name = "race.example" })));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.DoesNotContain(_host.Logs.Entries, e => e.Level >= LogLevel.Error);
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task ADomainWhoseDeletionFails_KeepsItsRRsets()
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("a"));
        await _host.ExecuteSqlAsync("CREATE TRIGGER refuse_deletions BEFORE DELETE ON domains BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;");

        var deleted = await client.DeleteAsync(Domains + "example.com/");
        var rrsets = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/");

        Assert.Equal(HttpStatusCode.InternalServerError, deleted.StatusCode);
        Assert.Equal("a", Assert.Single(rrsets.EnumerateArray()).GetProperty("subname").GetString());
    }

    [Fact]
    public async Task ADatabaseFailureOnCreatingADomain_IsA500_NotATakenName_AndIsLoggedOnce()
    {
        using var client = await NewDnsClientAsync();
        await _host.ExecuteSqlAsync("CREATE TRIGGER refuse_domains BEFORE INSERT ON domains BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;");

        var response = await client.PostAsJsonAsync(Domains, new { name = "example.com" });

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("INTERNAL_ERROR", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var error = Assert.Single(_host.Logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.Equal(typeof(Sluice.Server.Api.ApiErrorMiddleware).FullName, error.Category);
    }

    [Fact]
    public async Task AnotherAccountsDomain_IsNotFound_AndItsWritesDoNotUseTheOwnersRate()
    {
        using var owner = await NewDnsClientAsync("example.com");
        using var stranger = await NewDnsClientAsync();
        var attempts = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            attempts.Add((await stranger.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("x"))).StatusCode);
        }

        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests], attempts);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(Domains + "example.com/rrsets/")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("x"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("y"))).StatusCode);
    }

    [Theory]
    [InlineData("@")]
    [InlineData("")]
    public async Task TheApex_IsAddressedByAtOrAnEmptySegment(string segment)
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new { subname = "", type = "A", ttl = 3600, records = new[] { "192.0.2.1" } });

        var rrset = await client.GetFromJsonAsync<JsonElement>($"{Domains}example.com/rrsets/{segment}/A/");

        Assert.Equal("example.com.", rrset.GetProperty("name").GetString());
        Assert.Equal("", rrset.GetProperty("subname").GetString());
    }

    [Theory]
    [InlineData("AAAA", "2001:0DB8:0000::0001", "2001:db8::1")]
    [InlineData("AAAA", "::FFFF:192.0.2.1", "::ffff:192.0.2.1")]
    [InlineData("A", "192.0.2.1", "192.0.2.1")]
    [InlineData("CNAME", "Target.Example.NET.", "target.example.net.")]
    [InlineData("MX", "010  Mail.Example.NET.", "10 mail.example.net.")]
    [InlineData("TXT", "\"Mixed Case\"", "\"Mixed Case\"")]
    public async Task Records_AreStoredInCanonicalForm_AsDeSecAnswersThem(string type, string given, string stored)
    {
        using var client = await NewDnsClientAsync("example.com");

        var created = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new { subname = "x", type, ttl = 3600, records = new[] { given } });
        var read = await client.GetFromJsonAsync<JsonElement>($"{Domains}example.com/rrsets/x/{type}/");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal([stored], (await ServerHost.Json(created)).GetProperty("records").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal([stored], read.GetProperty("records").EnumerateArray().Select(r => r.GetString()));
    }

    [Theory]
    [InlineData("AAAA", "2001:db8::1", "2001:DB8:0::1")]
    [InlineData("NS", "ns1.example.net.", "NS1.example.net.")]
    public async Task TwoRecordsThatAreOneInCanonicalForm_AreRefusedAsDuplicates(string type, string first, string second)
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new { subname = "x", type, ttl = 3600, records = new[] { first, second } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["Records must be unique within an RRset."], (await ServerHost.Json(response)).GetProperty("records").EnumerateArray().Select(r => r.GetString()));
    }

    [Theory]
    [InlineData("192.0.2.01")]
    [InlineData("192.0.2")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("192.0.2.256")]
    [InlineData("192.0.2.-1")]
    public async Task AnIPv4AddressWithLeadingZerosOrInAnotherNotation_IsRefused(string record)
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new { subname = "x", type = "A", ttl = 3600, records = new[] { record } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is not an IPv4 address", (await ServerHost.Json(response)).GetProperty("records")[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SOA")]
    [InlineData("rrsig")]
    [InlineData("NSEC3PARAM")]
    public async Task AListFilteredByATypeTheOperatorManages_IsForbidden_AsOnDeSec(string type)
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await client.GetAsync($"{Domains}example.com/rrsets/?type={type}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal($$"""{"detail":"You cannot tinker with the {{type.ToUpperInvariant()}} RRset."}""", await response.Content.ReadAsStringAsync());
        var document = await ServerHost.Json(await _host.Anonymous().GetAsync("/openapi/v1.json"));
        Assert.True(document.GetProperty("paths").GetProperty("/api/v1/domains/{name}/rrsets").GetProperty("get").GetProperty("responses").TryGetProperty("403", out _));
    }

    [Fact]
    public async Task AnRRsetWithoutASubname_IsAtTheApex_InABulkRequestAndAlone_AsDeSecDocuments()
    {
        using var client = await NewDnsClientAsync("example.com");

        var bulk = await Send(client, HttpMethod.Patch, Domains + "example.com/rrsets/", """[{"type":"TXT","ttl":3600,"records":["\"apex\""]}]""");
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        var alone = await Send(client, HttpMethod.Post, Domains + "example.com/rrsets/", """{"type":"A","ttl":3600,"records":["192.0.2.1"]}""");
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        var patched = await Send(client, HttpMethod.Patch, Domains + "example.com/rrsets/", """[{"type":"TXT","ttl":7200}]""");
        var apex = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/?subname=");

        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        Assert.Equal(HttpStatusCode.Created, alone.StatusCode);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(["A", "TXT"], apex.EnumerateArray().Select(r => r.GetProperty("type").GetString()).Order());
        Assert.Equal(7200, apex.EnumerateArray().Single(r => r.GetProperty("type").GetString() == "TXT").GetProperty("ttl").GetInt32());
    }

    [Fact]
    public async Task ASubnameOrTypeSentAsNull_IsRefused_InDjangosWords()
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await Send(client, HttpMethod.Patch, Domains + "example.com/rrsets/", """[{"subname":null,"type":null,"ttl":3600,"records":["\"x\""]}]""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""[{"subname":["This field may not be null."],"type":["This field may not be null."]}]""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("...", "")]
    [InlineData("www...", "www")]
    [InlineData("www@", "www")]
    public async Task ASubnameFollowedByThreeDotsOrAnAt_StandsForItsName_AsOnDeSec(string segment, string subname)
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new { subname, type = "A", ttl = 3600, records = new[] { "192.0.2.1" } });
        _host.Time.Advance(TimeSpan.FromSeconds(1));

        var read = await client.GetFromJsonAsync<JsonElement>($"{Domains}example.com/rrsets/{segment}/A/");
        var patched = await client.PatchAsJsonAsync($"{Domains}example.com/rrsets/{segment}/A/", new { ttl = 7200 });
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        var deleted = await client.DeleteAsync($"{Domains}example.com/rrsets/{segment}/A/");

        Assert.Equal(subname, read.GetProperty("subname").GetString());
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(7200, (await ServerHost.Json(patched)).GetProperty("ttl").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/")).EnumerateArray());
    }

    [Fact]
    public async Task OneRRset_CanBeReadPatchedReplacedAndDeleted()
    {
        using var client = await NewDnsClientAsync("example.com");
        var url = Domains + "example.com/rrsets/www/A/";
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new { subname = "www", type = "A", ttl = 3600, records = new[] { "192.0.2.1" } });

        var patched = await client.PatchAsJsonAsync(url, new { ttl = 7200 });
        _host.Time.Advance(TimeSpan.FromSeconds(1.1));
        var replaced = await client.PutAsJsonAsync(url, new { ttl = 3600, records = new[] { "192.0.2.2", "192.0.2.3" } });
        _host.Time.Advance(TimeSpan.FromSeconds(1.1));
        var deleted = await client.DeleteAsync(url);

        Assert.True(patched.IsSuccessStatusCode, await patched.Content.ReadAsStringAsync());
        var patchedBody = await patched.Content.ReadFromJsonAsync<JsonElement>();
        var replacedBody = await replaced.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(7200, patchedBody.GetProperty("ttl").GetInt32());
        Assert.Equal("192.0.2.1", patchedBody.GetProperty("records")[0].GetString());
        Assert.Equal(2, replacedBody.GetProperty("records").GetArrayLength());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(url)).StatusCode);
    }

    [Theory]
    [InlineData("PATCH")]
    [InlineData("PUT")]
    public async Task EmptyRecords_DeleteTheRRset(string method)
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new[] { TxtRRset("a"), TxtRRset("b") });
        _host.Time.Advance(TimeSpan.FromSeconds(1));

        var bulk = await Send(client, new HttpMethod(method), Domains + "example.com/rrsets/", """[{"subname":"a","type":"TXT","ttl":3600,"records":[]}]""");
        var listed = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/");

        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        Assert.Equal(0, (await bulk.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
        Assert.Equal(["b"], listed.EnumerateArray().Select(r => r.GetProperty("subname").GetString()));
    }

    [Fact]
    public async Task TheRRsetList_FiltersBySubnameAndType()
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new object[]
        {
            TxtRRset("a"), TxtRRset("b"), new { subname = "a", type = "A", ttl = 3600, records = new[] { "192.0.2.1" } },
        });

        var bySubname = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/?subname=a");
        var byType = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/?type=TXT");
        var both = await client.GetFromJsonAsync<JsonElement>(Domains + "example.com/rrsets/?subname=a&type=A");

        Assert.Equal(2, bySubname.GetArrayLength());
        Assert.Equal(2, byType.GetArrayLength());
        Assert.Equal(1, both.GetArrayLength());
    }

    [Theory]
    [InlineData("A", "1.2.3", "records")]
    [InlineData("A", "2001:db8::1", "records")]
    [InlineData("AAAA", "192.0.2.1", "records")]
    [InlineData("CNAME", "target.example.net", "records")]
    [InlineData("NS", "ns1.example.net", "records")]
    [InlineData("MX", "10", "records")]
    [InlineData("MX", "mail.example.net.", "records")]
    [InlineData("TXT", "unquoted", "records")]
    [InlineData("TXT", "\"open", "records")]
    [InlineData("SOA", "x", "type")]
    [InlineData("BOGUS", "x", "type")]
    public async Task InvalidRecords_Get400_NamingTheField(string type, string record, string field)
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new { subname = "www", type, ttl = 3600, records = new[] { record } });
        var errors = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(errors.TryGetProperty(field, out _), errors.ToString());
    }

    [Theory]
    [InlineData("A", "192.0.2.1")]
    [InlineData("AAAA", "2001:db8::1")]
    [InlineData("CNAME", "target.example.net.")]
    [InlineData("NS", "ns1.example.net.")]
    [InlineData("MX", "10 mail.example.net.")]
    [InlineData("TXT", "\"v=spf1 -all\" \"second\"")]
    public async Task ValidRecords_OfEachCheckedType_AreAccepted(string type, string record)
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new { subname = "www", type, ttl = 3600, records = new[] { record } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"subname":"www","type":"A","ttl":60,"records":["192.0.2.1"]}""", "ttl")]
    [InlineData("""{"subname":"www","type":"A","ttl":99999999,"records":["192.0.2.1"]}""", "ttl")]
    [InlineData("""{"subname":"www","type":"A","ttl":"long","records":["192.0.2.1"]}""", "ttl")]
    [InlineData("""{"subname":"www","type":"A","records":["192.0.2.1"]}""", "ttl")]
    [InlineData("""{"subname":"bad name","type":"A","ttl":3600,"records":["192.0.2.1"]}""", "subname")]
    [InlineData("""{"subname":null,"type":"A","ttl":3600,"records":["192.0.2.1"]}""", "subname")]
    [InlineData("""{"subname":"www","type":"A","ttl":3600}""", "records")]
    [InlineData("""{"subname":"www","type":"A","ttl":3600,"records":[]}""", "records")]
    [InlineData("""{"subname":"","type":"CNAME","ttl":3600,"records":["a.example.net."]}""", "type")]
    public async Task InvalidRRsets_Get400_NamingTheField(string json, string field)
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await Send(client, HttpMethod.Post, Domains + "example.com/rrsets/", json);
        var errors = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(errors.TryGetProperty(field, out _), errors.ToString());
    }

    [Fact]
    public async Task ACnameCannotCoexistWithOtherTypes()
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("www"));
        _host.Time.Advance(TimeSpan.FromSeconds(1));

        var response = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", new[] { new { subname = "www", type = "CNAME", ttl = 3600, records = new[] { "a.example.net." } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task CreatingAnExistingRRset_WithPost_Gets400()
    {
        using var client = await NewDnsClientAsync("example.com");
        await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("a"));
        _host.Time.Advance(TimeSpan.FromSeconds(1));

        var again = await client.PostAsJsonAsync(Domains + "example.com/rrsets/", TxtRRset("a"));

        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("non_field_errors", out _));
    }

    [Fact]
    public async Task InvalidJson_Gets400_WithADetail()
    {
        using var client = await NewDnsClientAsync("example.com");

        var response = await Send(client, HttpMethod.Patch, Domains + "example.com/rrsets/", "[{");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("detail", out _));
    }

    [Fact]
    public async Task TheDnsApi_NeedsAToken()
    {
        using var anonymous = _host.Anonymous();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(Domains)).StatusCode);
    }

    [Fact]
    public async Task DomainCreation_IsLimitedPerAccount_TenPerSecond()
    {
        using var client = await NewDnsClientAsync();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync(Domains, new { name = $"d{i}.example" })).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsJsonAsync(Domains, new { name = "d10.example" })).StatusCode);
    }

    [Fact]
    public void TheShippedConfiguration_HasDeSecsLimits()
    {
        var configuration = _host.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        string[] Rates(string layer) => configuration.GetSection($"Sluice:Layers:{layer}:Rates").GetChildren().Select(c => c.Value!).ToArray();

        Assert.Equal(["2/s", "15/min", "100/h", "300/day"], Rates("dns_api_per_domain_expensive"));
        Assert.Equal(["10/s", "300/min", "1000/h"], Rates("dns_api_expensive"));
        Assert.Equal(["10/s", "50/min"], Rates("dns_api_cheap"));
        Assert.Equal(["2000/day"], Rates("user"));
        Assert.Equal("SlidingWindow", configuration["Sluice:Layers:dns_api_per_domain_expensive:Algorithm"]);
    }

    [Theory]
    [InlineData(1, """{"detail":"Request was throttled. Expected available in 1 second."}""")]
    [InlineData(2, """{"detail":"Request was throttled. Expected available in 2 seconds."}""")]
    public void TheThrottleBody_IsDeSecsByteForByte(long seconds, string expected) => Assert.Equal(expected, DeSecThrottle.Body(seconds));
}
