using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Sluice.Server.Tests;

/// <summary>A DNS request body is read only up to <c>Dns:MaxBodyBytes</c>: a larger one is refused before it is parsed.</summary>
public sealed class DnsBodySizeTests : IAsyncLifetime
{
    private const int Max = 2048;
    private const string Rrsets = "/api/v1/domains/example.com/rrsets/";

    private readonly ServerHost _host = new(new Dictionary<string, string?> { ["Dns:MaxBodyBytes"] = Max.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    /// <summary>A bulk body of exactly <paramref name="bytes"/> bytes: one TXT RRset, then insignificant whitespace.</summary>
    private static string BulkOf(int bytes)
    {
        const string rrset = """[{"subname":"a","type":"TXT","ttl":3600,"records":["\"x\""]}""";
        return rrset + new string(' ', bytes - rrset.Length - 1) + "]";
    }

    private Task<HttpClient> ClientWithDomainAsync() => _host.NewDnsClientAsync("example.com");

    [Fact]
    public async Task ABodyOfExactlyTheLimit_IsWritten()
    {
        using var client = await ClientWithDomainAsync();

        var response = await client.PatchAsync(Rrsets, new StringContent(BulkOf(Max), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ABodyOneBytePastTheLimit_IsRefusedWith413_InDeSecsShape_AndWritesNothing()
    {
        using var client = await ClientWithDomainAsync();

        var response = await client.PatchAsync(Rrsets, new StringContent(BulkOf(Max + 1), Encoding.UTF8, "application/json"));
        var listed = await client.GetFromJsonAsync<JsonElement>(Rrsets + "?type=TXT");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(
            $$"""{"detail":"The request body is larger than {{Max}} bytes; split it into several requests."}""",
            await response.Content.ReadAsStringAsync());
        Assert.Equal(0, listed.GetArrayLength());
    }

    [Fact]
    public async Task ABodySentInChunks_WithoutALength_IsRefusedOnceItPassesTheLimit()
    {
        using var client = await ClientWithDomainAsync();

        var response = await client.PatchAsync(Rrsets, new ChunkedContent(Encoding.UTF8.GetBytes(BulkOf(Max * 4))));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task CreatingADomain_IsBoundByTheSameLimit()
    {
        using var client = await ClientWithDomainAsync();

        var response = await client.PostAsync("/api/v1/domains/", new StringContent($$"""{"name":"{{new string('a', Max)}}.example"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    /// <summary>A body whose length is not known in advance, so it is sent without <c>Content-Length</c>.</summary>
    private sealed class ChunkedContent : HttpContent
    {
        private readonly byte[] _bytes;

        public ChunkedContent(byte[] bytes)
        {
            _bytes = bytes;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
