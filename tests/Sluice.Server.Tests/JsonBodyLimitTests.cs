using System.Net;
using System.Text;

namespace Sluice.Server.Tests;

/// <summary>The CertDirectory and admin APIs read a JSON body only up to <c>Certificates:JsonMaxBytes</c>.</summary>
public sealed class JsonBodyLimitTests : IAsyncLifetime
{
    private const int Max = 1024;

    // On Kestrel: the in-memory test server does not enforce a body size limit.
    private readonly ServerHost _host = new(new Dictionary<string, string?> { ["Certificates:JsonMaxBytes"] = Max.ToString(System.Globalization.CultureInfo.InvariantCulture) }, kestrel: true);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    /// <summary>A certificate request of exactly <paramref name="bytes"/> bytes, padded with insignificant whitespace.</summary>
    private static StringContent CertificateOf(int bytes)
    {
        const string body = """{"recipient_email":"ada@example.com","recipient_name":"Ada","course":"Engines"}""";
        return new StringContent(new string(' ', bytes - body.Length) + body, Encoding.UTF8, "application/json");
    }

    [Fact]
    public async Task ACertificateRequestOfExactlyTheLimit_IsIssued()
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await client.PostAsync("/api/certificates", CertificateOf(Max));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task ACertificateRequestPastTheLimit_Is413_AndChargesNoRecipient()
    {
        var (account, _, client) = await _host.NewCustomerAsync();

        var response = await client.PostAsync("/api/certificates", CertificateOf(Max + 1));
        var usage = await ServerHost.Json(await _host.Admin().GetAsync($"/admin/accounts/{account}/usage"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await ServerHost.Json(response);
        Assert.Equal("PAYLOAD_TOO_LARGE", problem.GetProperty("code").GetString());
        Assert.Equal($"The request body is larger than {Max} bytes.", problem.GetProperty("detail").GetString());
        Assert.Equal(0, usage.GetProperty("quota").GetProperty("used").GetInt32());
    }

    [Fact]
    public async Task AnAdminChangePastTheLimit_Is413()
    {
        var response = await _host.Admin().PostAsync("/admin/accounts", new StringContent($$"""{"name":"{{new string('a', Max)}}","plan":"free"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("PAYLOAD_TOO_LARGE", (await ServerHost.Json(response)).GetProperty("code").GetString());
    }
}
