using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Sluice.Server.Tests;

public sealed class BulkUploadTests : IAsyncLifetime
{
    private readonly ServerHost _host = new(new() { ["Certificates:BulkMaxBytes"] = "2000" });

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private static Task<HttpResponseMessage> Upload(HttpClient client, string csv, string type = "text/csv")
        => client.PostAsync("/api/certificates/bulk", new StringContent(csv, Encoding.UTF8, type));

    [Fact]
    public async Task ACsvUpload_IssuesEveryRow_AndReportsEachOne()
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await Upload(client, "recipient_email,recipient_name,course\r\na@example.com,Ada,Engines\r\nb@example.com,\"Lovelace, Ada\",\"The \"\"Analytical\"\" Engine\"\r\n");
        var body = await ServerHost.Json(response);
        var rows = body.GetProperty("rows").EnumerateArray().ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, body.GetProperty("issued").GetInt32());
        Assert.Equal([2, 3], rows.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Equal("Lovelace, Ada", rows[1].GetProperty("certificate").GetProperty("recipient_name").GetString());
        Assert.Equal("The \"Analytical\" Engine", rows[1].GetProperty("certificate").GetProperty("course").GetString());
        Assert.Equal("48", response.Headers.GetValues("X-Quota-Remaining").Single());
    }

    [Fact]
    public async Task TheBulkPath_IsExemptFromEveryRateLimitLayer()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        for (var i = 0; i < 60; i++)
        {
            await client.GetAsync("/api/certificates");
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/api/certificates")).StatusCode);
        var bulk = await Upload(client, "recipient_email,recipient_name,course\na@example.com,Ada,Engines\n");

        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        Assert.False(bulk.Headers.Contains("X-RateLimit-Limit"));
    }

    [Fact]
    public async Task RowsBeyondTheQuota_AreRefusedPerRow_AndTheRestIssued()
    {
        var (account, _, client) = await _host.NewCustomerAsync();
        using var admin = _host.Admin();
        await admin.PutAsJsonAsync($"/admin/accounts/{account}/quota", new { monthly_recipients = 2 });

        var response = await Upload(client, "recipient_email,recipient_name,course\na@example.com,A,C\nb@example.com,B,C\nc@example.com,C,C\na@example.com,A again,C\n");
        var body = await ServerHost.Json(response);
        var rows = body.GetProperty("rows").EnumerateArray().ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, body.GetProperty("issued").GetInt32());
        Assert.Equal(1, body.GetProperty("refused").GetInt32());
        Assert.Equal(["issued", "issued", "refused", "issued"], rows.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal("QUOTA_EXCEEDED", rows[2].GetProperty("code").GetString());
        Assert.Equal(4, rows[2].GetProperty("row").GetInt32());
    }

    [Theory]
    [InlineData("recipient_email,recipient_name,course\na@example.com,A,C\nb@example.com,\"B,C\n", 3)]
    [InlineData("recipient_email,recipient_name,course\na@example.com,A\n", 2)]
    [InlineData("recipient_email,recipient_name,course\na@example.com,A,C\nb@example.com,B,C,extra\n", 3)]
    [InlineData("email,name,course\na@example.com,A,C\n", 1)]
    [InlineData("", 1)]
    [InlineData("recipient_email,recipient_name,course\na@example.com,A\"x\",C\n", 2)]
    [InlineData("recipient_email,recipient_name,course\n\na@example.com,A,C\n", 2)]
    [InlineData("recipient_email,recipient_name,course\n\"a@example.com\"x,A,C\n", 2)]
    public async Task MalformedCsv_Gets400_WithTheRow_AndIssuesNothing(string csv, int row)
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await Upload(client, csv);
        var body = await ServerHost.Json(response);
        var listed = await ServerHost.Json(await client.GetAsync("/api/certificates"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("MALFORMED_CSV", body.GetProperty("code").GetString());
        Assert.Equal(row, body.GetProperty("row").GetInt32());
        Assert.Equal(0, listed.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task AnInvalidRow_Gets400_NamingTheRowAndField_AndIssuesNothing()
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await Upload(client, "recipient_email,recipient_name,course\na@example.com,A,C\nnot-an-email,B,C\n");
        var body = await ServerHost.Json(response);
        var listed = await ServerHost.Json(await client.GetAsync("/api/certificates"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("VALIDATION_FAILED", body.GetProperty("code").GetString());
        Assert.Equal(3, body.GetProperty("row").GetInt32());
        Assert.Equal("recipient_email", body.GetProperty("field").GetString());
        Assert.Equal(0, listed.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task ABodyOverTheConfiguredSize_Gets413()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        var csv = "recipient_email,recipient_name,course\n" + string.Concat(Enumerable.Range(0, 100).Select(i => $"r{i}@example.com,Name {i},Course\n"));

        var response = await Upload(client, csv);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("PAYLOAD_TOO_LARGE", (await ServerHost.Json(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task AChunkedBodyOverTheConfiguredSize_Gets413_Too()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        var csv = "recipient_email,recipient_name,course\n" + string.Concat(Enumerable.Range(0, 100).Select(i => $"r{i}@example.com,Name {i},Course\n"));
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(csv)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/certificates/bulk") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task ACsvInTheCharsetItNames_IsReadInIt_AndBytesThatAreNotItsText_Get400_NotReplacementCharacters()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        var csv = "recipient_email,recipient_name,course\nzoe@example.com,Zoë Noël,Café\n";
        var latin1 = Encoding.Latin1.GetBytes(csv);

        async Task<HttpResponseMessage> Send(byte[] body, string type)
        {
            var content = new ByteArrayContent(body);
            content.Headers.TryAddWithoutValidation("Content-Type", type);
            return await client.PostAsync("/api/certificates/bulk", content);
        }

        var named = await Send(latin1, "text/csv; charset=ISO-8859-1");
        var unnamed = await Send(latin1, "text/csv");
        var unknown = await Send(latin1, "text/csv; charset=x-klingon");
        var windows = await Send(Encoding.Latin1.GetBytes(csv.Replace("zoe@", "zoe3@", StringComparison.Ordinal)), "text/csv; charset=\"windows-1252\"");
        var utf16 = await Send([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(csv.Replace("zoe@", "zoe2@", StringComparison.Ordinal))], "text/csv");
        var issued = (await ServerHost.Json(named)).GetProperty("rows")[0].GetProperty("certificate");
        var refused = await ServerHost.Json(unnamed);

        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        Assert.Equal("Zoë Noël", issued.GetProperty("recipient_name").GetString());
        Assert.Equal("Café", issued.GetProperty("course").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, unnamed.StatusCode);
        Assert.Equal("MALFORMED_CSV", refused.GetProperty("code").GetString());
        Assert.Equal(2, refused.GetProperty("row").GetInt32());
        Assert.Contains("Row 2: the body is not valid utf-8 text", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, windows.StatusCode);
        Assert.Equal("Zoë Noël", (await ServerHost.Json(utf16)).GetProperty("rows")[0].GetProperty("certificate").GetProperty("recipient_name").GetString());
    }

    [Fact]
    public async Task ABodyThatIsNotCsv_Gets415()
    {
        var (_, _, client) = await _host.NewCustomerAsync();

        var response = await client.PostAsJsonAsync("/api/certificates/bulk", new { rows = 1 });

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task TheBulkPath_StillNeedsAKey()
    {
        using var client = _host.Anonymous();

        Assert.Equal(HttpStatusCode.Unauthorized, (await Upload(client, "recipient_email,recipient_name,course\n")).StatusCode);
    }
}
