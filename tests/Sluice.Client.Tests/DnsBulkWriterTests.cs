using System.Net;
using Sluice.Client.Dns;

namespace Sluice.Client.Tests;

public sealed class DnsBulkWriterTests : IAsyncLifetime
{
    private readonly ReferenceServer _server = new();
    private readonly CountingTransport _wire = new();
    private DnsApiClient _dns = null!;

    public async Task InitializeAsync()
    {
        _wire.InnerHandler = _server.Transport();
        var http = new HttpClient(new SluiceClientHandler(new SluiceClientOptions { Registry = new PacerRegistry() }, _wire)) { BaseAddress = _server.BaseAddress };
        _dns = new DnsApiClient(http, await _server.NewKeyAsync());
        await _dns.CreateDomainAsync("example.com");
        await _dns.CreateDomainAsync("example.org");
        _wire.Requests.Clear();
    }

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    private static RRsetWrite Txt(string subname, string value = "v") => new(subname, "TXT", 3600, [$"\"{value}\""]);

    [Fact]
    public async Task ConcurrentWritesToOneDomain_GoOutAsOneBulkRequest_AndEachCallerGetsItsOwnRRset()
    {
        await using var writer = new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.FromMilliseconds(100) });

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => writer.WriteAsync("example.com", Txt($"_acme-challenge.n{i}", $"t{i}"))));

        Assert.Single(_wire.Requests);
        Assert.Equal("PATCH", _wire.Requests[0].Method);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"_acme-challenge.n{i}", results[i]!.Subname);
            Assert.Equal($"\"t{i}\"", results[i]!.Records[0]);
        }
    }

    [Fact]
    public async Task WritesToTwoDomains_GoOutAsOneRequestPerDomain()
    {
        await using var writer = new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.FromMilliseconds(100) });

        await Task.WhenAll(writer.WriteAsync("example.com", Txt("a")), writer.WriteAsync("example.org", Txt("a")), writer.WriteAsync("example.com", Txt("b")));

        Assert.Equal(2, _wire.Requests.Count);
    }

    [Fact]
    public async Task WritesToTheSameRRsetInOneBatch_AreMerged_LastWins()
    {
        await using var writer = new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.FromMilliseconds(100) });

        var first = writer.WriteAsync("example.com", Txt("a", "first"));
        var second = writer.WriteAsync("example.com", new RRsetWrite("A", "txt", null, ["\"second\""]));
        var results = await Task.WhenAll(first, second);

        Assert.Single(_wire.Requests);
        Assert.Equal("\"second\"", results[0]!.Records.Single());
        Assert.Equal("\"second\"", results[1]!.Records.Single());
        Assert.Equal(3600, results[1]!.Ttl);
    }

    [Fact]
    public async Task ARefusedItem_FailsOnlyItsCaller_AndTheOthersAreApplied()
    {
        await using var writer = new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.FromMilliseconds(100) });

        var good = writer.WriteAsync("example.com", Txt("good"));
        var bad = writer.WriteAsync("example.com", new RRsetWrite("www", "A", 3600, ["300.1.2.3"]));
        var alsoGood = writer.WriteAsync("example.com", Txt("also-good"));

        var error = await Assert.ThrowsAsync<DnsApiException>(() => bad);
        Assert.Equal("good", (await good)!.Subname);
        Assert.Equal("also-good", (await alsoGood)!.Subname);
        Assert.Contains("records", error.Errors.Keys);
        Assert.Equal(2, (await _dns.ListRRsetsAsync("example.com")).Count);
    }

    [Fact]
    public async Task EmptyRecords_DeleteTheRRset_AndTheCallerGetsNull()
    {
        await using var writer = new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.Zero });
        await writer.WriteAsync("example.com", Txt("a"));

        var deleted = await writer.WriteAsync("example.com", new RRsetWrite("a", "TXT", null, []));

        Assert.Null(deleted);
        Assert.Empty(await _dns.ListRRsetsAsync("example.com"));
    }

    [Fact]
    public async Task ABatchScope_ServesCallersThatAwaitEachWrite_WithOneRequest()
    {
        var time = new ManualTimeProvider();
        await using var writer = new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.FromMilliseconds(50), TimeProvider = time });
        var batch = writer.BeginBatch();
        for (var i = 0; i < 6; i++)
        {
            // Like lego: each challenge is presented and awaited before the next, each longer after the last than MaxWait.
            await writer.WriteAsync("example.com", Txt($"_acme-challenge.n{i}"));
            Assert.Equal(0, time.PendingTimers);
            time.Advance(TimeSpan.FromMilliseconds(60));
        }

        Assert.Empty(_wire.Requests);
        var written = await batch.CommitAsync();
        var after = await FakeClock.DriveAsync(time, writer.WriteAsync("example.com", new RRsetWrite("_acme-challenge.n0", "TXT", null, [])));

        Assert.Equal(2, _wire.Requests.Count);
        Assert.Equal(6, written.Count(r => r is not null));
        Assert.Null(after);
    }

    [Fact]
    public async Task ABatchDisposedWithoutACommit_SendsWhatItQueued_OneRequestPerDomain()
    {
        await using var writer = new DnsBulkWriter(_dns);
        await using (var batch = writer.BeginBatch())
        {
            await writer.WriteAsync("example.com", Txt("a"));
            await writer.WriteAsync("example.org", Txt("b"));
            await writer.WriteAsync("example.com", Txt("c"));
            Assert.Equal(3, batch.Count);
            Assert.Empty(_wire.Requests);
        }

        Assert.Equal(2, _wire.Requests.Count);
        Assert.Equal(["a", "c"], (await _dns.ListRRsetsAsync("example.com")).Select(r => r.Subname).Order());
        Assert.Equal(["b"], (await _dns.ListRRsetsAsync("example.org")).Select(r => r.Subname));
    }

    [Fact]
    public async Task ListingRRsets_CanFilterBySubnameAndType()
    {
        await _dns.WriteRRsetsAsync("example.com", [Txt("a"), Txt("b"), new RRsetWrite("a", "A", 3600, ["192.0.2.1"])]);

        var named = await _dns.ListRRsetsAsync("example.com", subname: "a");
        var typed = await _dns.ListRRsetsAsync("example.com", type: "TXT");
        var both = await _dns.ListRRsetsAsync("example.com", subname: "a", type: "A");

        Assert.Equal(["A", "TXT"], named.Select(r => r.Type).Order());
        Assert.Equal(["a", "b"], typed.Select(r => r.Subname).Order());
        Assert.Equal("192.0.2.1", both.Single().Records.Single());
    }

    [Fact]
    public async Task ABatchWithARefusedItem_ThrowsWithThatItem_AndAppliesTheRest()
    {
        await using var writer = new DnsBulkWriter(_dns);
        var batch = writer.BeginBatch();
        await writer.WriteAsync("example.com", Txt("ok"));
        await writer.WriteAsync("example.com", new RRsetWrite("bad", "MX", 3600, ["no-preference.example."]));

        var error = await Assert.ThrowsAsync<DnsBulkWriteException>(() => batch.CommitAsync());

        Assert.Equal("bad", error.Failures.Single().Write.Subname);
        Assert.Equal(["ok"], (await _dns.ListRRsetsAsync("example.com")).Select(r => r.Subname));
    }

    [Fact]
    public async Task AFullBatch_IsSentWithoutWaiting()
    {
        await using var writer = new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.FromMinutes(5), MaxBatch = 3 });

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => writer.WriteAsync("example.com", Txt($"n{i}"))));

        Assert.All(results, Assert.NotNull);
        Assert.Single(_wire.Requests);
    }

    [Fact]
    public async Task ACancelledCaller_StopsWaiting_WhileTheOthersGetTheirResults()
    {
        await using var writer = new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.FromMilliseconds(200) });
        using var cancel = new CancellationTokenSource();

        var cancelled = writer.WriteAsync("example.com", Txt("a"), cancel.Token);
        var other = writer.WriteAsync("example.com", Txt("b"));
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal("b", (await other)!.Subname);
    }

    [Fact]
    public async Task TwoBatchesToOneDomain_ReachTheServerInTheOrderTheyWereFlushed_SoTheLaterWriteWins()
    {
        var hold = new HoldFirstWrite { InnerHandler = _server.Transport() };
        var http = new HttpClient(new SluiceClientHandler(new SluiceClientOptions { Registry = new PacerRegistry() }, hold)) { BaseAddress = _server.BaseAddress };
        var dns = new DnsApiClient(http, await _server.NewKeyAsync());
        await dns.CreateDomainAsync("example.net");
        await using var writer = new DnsBulkWriter(dns, new DnsBulkWriterOptions { MaxWait = TimeSpan.FromMinutes(5) });

        var first = writer.WriteAsync("example.net", Txt("a", "first"));
        var firstFlush = writer.FlushAsync();
        await hold.FirstArrived.Task;
        var second = writer.WriteAsync("example.net", Txt("a", "second"));
        var secondFlush = writer.FlushAsync();

        // The first bulk request is slow (held here); the second must not overtake it.
        await Task.WhenAny(hold.SecondArrived.Task, Task.Delay(TimeSpan.FromMilliseconds(300)));
        var overtaken = hold.SecondArrived.Task.IsCompleted;
        hold.Release.SetResult();
        await Task.WhenAll(firstFlush, secondFlush, first, second);

        Assert.False(overtaken);
        Assert.Equal(["\"second\""], (await dns.ListRRsetsAsync("example.net")).Single().Records);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("example.com/../../admin")]
    [InlineData("example.com?x=1")]
    [InlineData("example.com#frag")]
    [InlineData("example%2Ecom")]
    public async Task ADomainThatWouldLeaveItsPathSegment_IsRefused_BeforeAnythingIsSent(string domain)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _dns.GetDomainAsync(domain));
        await Assert.ThrowsAsync<ArgumentException>(() => _dns.DeleteDomainAsync(domain));
        await Assert.ThrowsAsync<ArgumentException>(() => _dns.ListRRsetsAsync(domain));
        await Assert.ThrowsAsync<ArgumentException>(() => _dns.WriteRRsetsAsync(domain, [Txt("a")]));

        Assert.Empty(_wire.Requests);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, -1)]
    [InlineData(1, 50 * 24 * 3600)]
    public void OptionsOutOfRange_AreRefusedAtOnce_NotAtTheFirstWrite(int maxBatch, int maxWaitSeconds)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new DnsBulkWriter(_dns, new DnsBulkWriterOptions { MaxBatch = maxBatch, MaxWait = TimeSpan.FromSeconds(maxWaitSeconds) }));

    /// <summary>Holds the first write until released; notes when a second one arrives.</summary>
    private sealed class HoldFirstWrite : DelegatingHandler
    {
        private int _writes;

        public TaskCompletionSource FirstArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource SecondArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Patch)
            {
                if (Interlocked.Increment(ref _writes) == 1)
                {
                    FirstArrived.SetResult();
                    await Release.Task;
                }
                else
                {
                    SecondArrived.TrySetResult();
                }
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Records each request that reaches the server.</summary>
    private sealed class CountingTransport : DelegatingHandler
    {
        public List<(string Method, string Path, HttpStatusCode Status)> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            lock (Requests)
            {
                Requests.Add((request.Method.Method, request.RequestUri!.AbsolutePath, response.StatusCode));
            }

            return response;
        }
    }
}
