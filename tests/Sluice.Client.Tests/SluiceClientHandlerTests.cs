using System.Net;
using System.Net.Http.Json;

namespace Sluice.Client.Tests;

public sealed class SluiceClientHandlerTests
{
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(25);

    /// <summary>A handler that paces writes to 1/min, with <paramref name="maxWait"/> when given.</summary>
    private static ClientHarness OneWritePerMinute(TimeSpan? maxWait = null) => new(o =>
    {
        o.WriteRates.Add(ClientRate.Parse("1/min"));
        o.MaxWait = maxWait ?? o.MaxWait;
    });

    [Fact]
    public async Task ARetry_IsNeverSoonerThanRetryAfter()
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "3"));
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        var response = await h.Drive(client.GetAsync("items"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Server.Received.Count);
        Assert.True(h.Since(start, 1) >= TimeSpan.FromSeconds(3), $"retried after {h.Since(start, 1)}");
        Assert.True(h.Since(start, 1) < TimeSpan.FromSeconds(3.1));
    }

    [Fact]
    public async Task AnHttpDateRetryAfter_IsHonoured()
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", (h.Time.GetUtcNow() + TimeSpan.FromSeconds(5)).ToString("R")));
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        await h.Drive(client.GetAsync("items"));

        Assert.True(h.Since(start, 1) >= TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("RateLimit", "\"p\";r=0;t=4", 4)]
    [InlineData("X-RateLimit-Reset", "6", 6)]
    public async Task WithoutRetryAfter_TheOtherHeadersSetTheWait(string header, string value, int seconds)
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.TooManyRequests, (header, value));
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        await h.Drive(client.GetAsync("items"));

        Assert.True(h.Since(start, 1) >= TimeSpan.FromSeconds(seconds));
    }

    [Fact]
    public async Task ServerErrors_BackOffExponentially_WithOnlyPositiveJitter()
    {
        var h = new ClientHarness(o => o.Random = () => 0.999);
        for (var i = 0; i < 3; i++)
        {
            h.Server.Then(HttpStatusCode.ServiceUnavailable);
        }

        using var client = h.NewClient();

        await h.Drive(client.GetAsync("items"));
        var at = h.Server.Received.Select(r => r.At).ToList();

        Assert.Equal(4, at.Count);
        foreach (var (gap, backoff) in new[] { (at[1] - at[0], 1.0), (at[2] - at[1], 2.0), (at[3] - at[2], 4.0) })
        {
            // Task.Delay counts whole milliseconds: allow the truncated one.
            Assert.InRange(gap.TotalSeconds, (backoff * 1.4995) - 0.001, (backoff * 1.4995) + 0.05);
        }
    }

    [Fact]
    public async Task AServerWait_GetsPositiveJitterOnly()
    {
        var h = new ClientHarness(o => o.Random = () => 0.5);
        h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "10"));
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        await h.Drive(client.GetAsync("items"));

        Assert.InRange(h.Since(start, 1).TotalSeconds, 12.5, 12.6);
    }

    [Fact]
    public async Task ServerErrorsOnPost_AreNotRetried_UnlessOptedIn()
    {
        var plain = new ClientHarness();
        plain.Server.Then(HttpStatusCode.BadGateway);
        var opted = new ClientHarness(o => o.RetryNonIdempotentOn5xx = true);
        opted.Server.Then(HttpStatusCode.BadGateway);

        var first = await plain.Drive(plain.NewClient().PostAsJsonAsync("items", new { a = 1 }));
        var second = await opted.Drive(opted.NewClient().PostAsJsonAsync("items", new { a = 1 }));

        Assert.Equal(HttpStatusCode.BadGateway, first.StatusCode);
        Assert.Single(plain.Server.Received);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, opted.Server.Received.Count);
    }

    [Fact]
    public async Task A429_OnPost_IsRetried_WithItsBodySentAgain()
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "1"));

        var response = await h.Drive(h.NewClient().PostAsJsonAsync("items", new { a = 1 }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Server.Received.Count);
    }

    [Fact]
    public async Task AfterSixAttempts_TheLastResponseIsReturned()
    {
        var h = new ClientHarness();
        for (var i = 0; i < 10; i++)
        {
            h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "1"));
        }

        var response = await h.Drive(h.NewClient().GetAsync("items"), TimeSpan.FromMinutes(5));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(6, h.Server.Received.Count);
    }

    [Fact]
    public async Task A429_PausesTheWholeScope_ForEveryCallerAndClient()
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "5"));
        using var first = h.NewClient();
        using var second = h.NewClient();
        var start = h.Time.GetUtcNow();

        var throttled = first.GetAsync("api/v1/domains/example.com/rrsets/");
        while (h.Time.PendingTimers == 0)
        {
            // Until the first caller has its 429 and waits to retry.
            await Task.Delay(5);
        }

        var other = second.GetAsync("api/v1/domains/example.com/");
        var elsewhere = second.GetAsync("api/v1/domains/example.org/");
        await h.Drive(Task.WhenAll(throttled, other, elsewhere));

        var arrivals = h.Server.Received.Skip(1).ToDictionary(r => r.Path, r => r.At - start);
        Assert.True(arrivals["/api/v1/domains/example.com/"] >= TimeSpan.FromSeconds(5), $"the other caller went at {arrivals["/api/v1/domains/example.com/"]}");
        Assert.True(arrivals["/api/v1/domains/example.org/"] < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task AWaitPastTheDeadline_FailsFast_WithRetryAfter()
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "30"));
        using var client = h.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "items");
        request.Options.Set(SluiceClientOptions.DeadlineKey, h.Time.GetUtcNow() + TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<SluiceRateLimitedException>(() => client.SendAsync(request));

        Assert.True(error.RetryAfter >= TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Single(h.Server.Received);
    }

    [Fact]
    public async Task APostPastTheAttemptTimeout_IsAbandoned_AsHttpClientReportsATimeout_AndNotSentAgain()
    {
        var h = new ClientHarness(o => o.AttemptTimeout = TimeSpan.FromSeconds(30));
        h.Server.ThenHangs();
        using var client = h.NewClient();

        var sending = client.PostAsync("items", new StringContent("{}"));
        while (h.Server.Received.Count == 0 && !sending.IsCompleted)
        {
            await Task.Delay(1);
        }

        h.Time.Advance(TimeSpan.FromSeconds(29.9));
        await Task.Delay(20);
        var early = sending.IsCompleted;
        h.Time.Advance(TimeSpan.FromSeconds(0.1));

        // Bounded in real time: without the attempt timeout the request would wait for ever.
        Assert.Same(sending, await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(10))));
        var error = await Assert.ThrowsAsync<TaskCanceledException>(() => sending);
        Assert.False(early);
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Single(h.Server.Received);
    }

    [Fact]
    public async Task AGetPastTheAttemptTimeout_IsSentAgainAfterTheBackoff()
    {
        var h = new ClientHarness(o => (o.AttemptTimeout, o.InitialDelay) = (TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2)));
        h.Server.ThenHangs().Then(HttpStatusCode.OK);
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        using var response = await h.Drive(client.GetAsync("items"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Server.Received.Count);
        Assert.Equal(TimeSpan.FromSeconds(32), h.Since(start, 1));
    }

    [Fact]
    public async Task AGetThatTimesOutOnEveryAttempt_FailsWithATimeout_AfterTheLastAttempt()
    {
        var h = new ClientHarness(o => (o.AttemptTimeout, o.MaxAttempts) = (TimeSpan.FromSeconds(30), 3));
        h.Server.ThenHangs().ThenHangs().ThenHangs().Then(HttpStatusCode.OK);
        using var client = h.NewClient();

        var error = await Assert.ThrowsAsync<TaskCanceledException>(() => h.Drive(client.GetAsync("items")));

        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Equal(3, h.Server.Received.Count);
    }

    [Fact]
    public async Task AGetPastTheAttemptTimeout_IsNotSentAgain_WhenTheBackoffWouldPassTheDeadline()
    {
        var h = new ClientHarness(o => (o.AttemptTimeout, o.InitialDelay) = (TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10)));
        h.Server.ThenHangs().Then(HttpStatusCode.OK);
        using var client = h.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "items");
        request.Options.Set(SluiceClientOptions.DeadlineKey, h.Time.GetUtcNow() + TimeSpan.FromSeconds(35));

        var error = await Assert.ThrowsAsync<TaskCanceledException>(() => h.Drive(client.SendAsync(request)));

        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Single(h.Server.Received);
    }

    [Fact]
    public async Task ACallerWhoCancelsAnAttempt_GetsItsOwnCancellation_NotATimeout()
    {
        var h = new ClientHarness();
        h.Server.ThenHangs();
        using var client = h.NewClient();
        using var cancel = new CancellationTokenSource();

        var sending = client.GetAsync("items", cancel.Token);
        while (h.Server.Received.Count == 0 && !sending.IsCompleted)
        {
            await Task.Delay(1);
        }

        await cancel.CancelAsync();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);

        Assert.IsNotType<TimeoutException>(error.InnerException);
        Assert.Equal(cancel.Token, error.CancellationToken);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void AnAttemptTimeoutThatIsNotPositive_IsRefused(int seconds)
    {
        var options = new SluiceClientOptions { AttemptTimeout = TimeSpan.FromSeconds(seconds) };

        Assert.Contains(options.Validate(), p => p.StartsWith("AttemptTimeout is", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFailFastOnAStatus_SpendsNoRetryFromTheBudget()
    {
        var budget = new RetryBudget(ratio: 0, minimum: 1);
        var h = new ClientHarness(o => o.RetryBudget = budget);
        h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "30")).Then(HttpStatusCode.ServiceUnavailable);
        using var client = h.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "items");
        request.Options.Set(SluiceClientOptions.DeadlineKey, h.Time.GetUtcNow() + TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<SluiceRateLimitedException>(() => client.SendAsync(request));
        Assert.Equal(1, budget.Available);
        h.Time.Advance(TimeSpan.FromSeconds(31));
        var next = await h.Drive(client.GetAsync("other"));

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(3, h.Server.Received.Count);
    }

    [Fact]
    public async Task WithTheBudgetSpent_AWaitPastTheDeadline_ReturnsTheAnswerAsItIs()
    {
        var h = new ClientHarness(o => o.RetryBudget = new RetryBudget(ratio: 0, minimum: 0));
        h.Server.Then(HttpStatusCode.TooManyRequests, ("Retry-After", "30"));
        using var client = h.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "items");
        request.Options.Set(SluiceClientOptions.DeadlineKey, h.Time.GetUtcNow() + TimeSpan.FromSeconds(10));

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Single(h.Server.Received);
    }

    [Fact]
    public async Task APacingWaitPastMaxWait_FailsFast()
    {
        var h = OneWritePerMinute(maxWait: TimeSpan.FromSeconds(5));
        using var client = h.NewClient();
        await client.PostAsJsonAsync("items", 1);

        var error = await Assert.ThrowsAsync<SluiceRateLimitedException>(() => client.PostAsJsonAsync("items", 2));

        Assert.True(error.RetryAfter >= TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task CallersThatFailFast_KeepNoSendTime_SoTheScopeSendsAgainOnceItsWindowPasses()
    {
        var h = OneWritePerMinute(maxWait: TimeSpan.FromSeconds(5));
        using var client = h.NewClient();
        await client.PostAsJsonAsync("items", 0);
        for (var i = 1; i <= 10; i++)
        {
            await Assert.ThrowsAsync<SluiceRateLimitedException>(() => client.PostAsJsonAsync("items", i));
        }

        h.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(2));
        var response = await h.Drive(client.PostAsJsonAsync("items", 11), TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Server.Received.Count);
    }

    [Fact]
    public async Task ACallerCancelledWhilePaced_GivesItsSendTimeBack()
    {
        var h = OneWritePerMinute();
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();
        await client.PostAsJsonAsync("items", 0);
        using var cancel = new CancellationTokenSource();
        var cancelled = client.PostAsJsonAsync("items", 1, cancel.Token);
        while (h.Time.UntilNextTimer is null && !cancelled.IsCompleted)
        {
            await Task.Delay(1);
        }

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        var response = await h.Drive(client.PostAsJsonAsync("items", 2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Server.Received.Count);
        Assert.InRange(h.Since(start, 1), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ACallerCancelledWhileTheAdaptiveRateHoldsItBack_GivesThePacersSendTimeBackToo()
    {
        var h = new ClientHarness(o => o.Adaptive = true);
        var now = h.Time.GetUtcNow();
        var pacer = h.Options.Registry.GetOrAdd("http://api.test|read", [], _ => TimeSpan.Zero, now);
        pacer.Adaptive.OnThrottle(now);
        while (pacer.Adaptive.TryAcquire(now, TimeSpan.Zero, out _))
        {
        }

        using var client = h.NewClient();
        using var cancel = new CancellationTokenSource();
        var cancelled = client.GetAsync("items", cancel.Token);
        while (h.Time.UntilNextTimer is null && !cancelled.IsCompleted)
        {
            await Task.Delay(1);
        }

        // The pacer itself had nothing to wait for (no rates): its send time is now, the adaptive token's later.
        Assert.Equal(1, pacer.LoggedSends);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        Assert.Equal(0, pacer.LoggedSends);
        Assert.Empty(h.Server.Received);
    }

    [Fact]
    public async Task AConnectionFailure_OfAGet_IsRetriedAfterTheBackoff()
    {
        var h = new ClientHarness();
        h.Server.ThenConnectionFails().ThenConnectionFails(HttpRequestError.ResponseEnded);
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        var response = await h.Drive(client.GetAsync("items"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, h.Server.Received.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), h.Since(start, 1));
        Assert.Equal(TimeSpan.FromSeconds(3), h.Since(start, 2));
    }

    [Fact]
    public async Task ARefusedConnectionOnLoopback_IsRetried_ThroughTheRealSocketsHandler()
    {
        // Nothing listens on the port: .NET's own handler reports the refusal, which the retry must recognise. The
        // harness moves its fake clock to the next timer while the real socket connects, so no attempt timeout here.
        var h = new ClientHarness(o => (o.MaxAttempts, o.AttemptTimeout) = (3, Timeout.InfiniteTimeSpan));
        var attempts = 0;
        using var client = new HttpClient(new SluiceClientHandler(h.Options, new Counted(() => Interlocked.Increment(ref attempts), new SocketsHttpHandler())))
        {
            BaseAddress = new Uri($"http://127.0.0.1:{Sluice.Testing.LoopbackPort.Free()}/"),
        };

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => h.Drive(client.GetAsync("items")));

        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        Assert.Equal(3, attempts);
    }

    private sealed class Counted(Action counted, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counted();
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Theory]
    [InlineData(HttpRequestError.NameResolutionError)]
    [InlineData(HttpRequestError.SecureConnectionError)]
    [InlineData(HttpRequestError.InvalidResponse)]
    public async Task AFailureThatWouldRecur_IsNotRetried(HttpRequestError error)
    {
        var h = new ClientHarness();
        h.Server.ThenConnectionFails(error);
        using var client = h.NewClient();

        var thrown = await Assert.ThrowsAsync<HttpRequestException>(() => h.Drive(client.GetAsync("items")));

        Assert.Equal(error, thrown.HttpRequestError);
        Assert.Single(h.Server.Received);
    }

    [Fact]
    public async Task AConnectionFailure_OfAPost_IsNotSentAgain()
    {
        var h = new ClientHarness(o => o.RetryNonIdempotentOn5xx = true);
        h.Server.ThenConnectionFails();
        using var client = h.NewClient();

        await Assert.ThrowsAsync<HttpRequestException>(() => h.Drive(client.PostAsJsonAsync("items", 1)));

        Assert.Single(h.Server.Received);
    }

    [Fact]
    public async Task AConnectionThatKeepsFailing_PropagatesTheFailure_AfterTheLastAttempt()
    {
        var h = new ClientHarness(o => o.MaxAttempts = 3);
        for (var i = 0; i < 5; i++)
        {
            h.Server.ThenConnectionFails();
        }

        using var client = h.NewClient();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => h.Drive(client.GetAsync("items")));

        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        Assert.Equal(3, h.Server.Received.Count);
    }

    [Fact]
    public async Task AConnectionFailure_IsNotRetried_WhenTheBackoffWouldPassTheDeadline()
    {
        var h = new ClientHarness();
        h.Server.ThenConnectionFails();
        using var client = h.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "items");
        request.Options.Set(SluiceClientOptions.DeadlineKey, h.Time.GetUtcNow() + TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAsync<HttpRequestException>(() => h.Drive(client.SendAsync(request)));

        Assert.Single(h.Server.Received);
    }

    [Theory]
    [InlineData(double.NaN, 10)]
    [InlineData(double.PositiveInfinity, 10)]
    [InlineData(-0.1, 10)]
    [InlineData(0.2, -1)]
    public void ARetryBudgetWithoutABound_IsRefused(double ratio, int minimum)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new RetryBudget(ratio, minimum));

    [Fact]
    public async Task TheRetryBudget_StopsRetriesUnderSustainedFailure()
    {
        var h = new ClientHarness(o => o.RetryBudget = new RetryBudget(ratio: 0, minimum: 2));
        for (var i = 0; i < 20; i++)
        {
            h.Server.Then(HttpStatusCode.ServiceUnavailable);
        }

        using var client = h.NewClient();

        var first = await h.Drive(client.GetAsync("a"));
        var second = await h.Drive(client.GetAsync("b"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal(4, h.Server.Received.Count);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
    }

    [Fact]
    public async Task ConfiguredRates_PaceConcurrentCallers()
    {
        var h = new ClientHarness(o => o.WriteRates.Add(ClientRate.Parse("2/s")));
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        await h.Drive(Task.WhenAll(Enumerable.Range(0, 5).Select(i => client.PostAsJsonAsync("api/v1/domains/example.com/rrsets/", i))));
        var offsets = h.Server.Received.Select(r => (r.At - start).TotalSeconds).Order().ToList();

        Assert.Equal(0, offsets[0], 2);
        Assert.Equal(0, offsets[1], 2);
        Assert.InRange(offsets[2], 1.025, 1.05);
        Assert.InRange(offsets[3], 1.025, 1.05);
        Assert.InRange(offsets[4], 2.05, 2.08);
    }

    [Fact]
    public async Task ManyRatesAtOnce_AreAllKept()
    {
        var h = new ClientHarness(o =>
        {
            foreach (var rate in ClientRate.ParseList("2/s, 3/min"))
            {
                o.WriteRates.Add(rate);
            }
        });
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        await h.Drive(Task.WhenAll(Enumerable.Range(0, 4).Select(i => client.PostAsJsonAsync("x", i))), TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(100));
        var offsets = h.Server.Received.Select(r => (r.At - start).TotalSeconds).Order().ToList();

        Assert.InRange(offsets[2], 1.0, 1.2);
        Assert.InRange(offsets[3], 61.2, 61.4);
    }

    [Fact]
    public async Task PublishedPolicies_AreLearned_AndPaceTheScope()
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.OK, ("RateLimit-Policy", "\"writes\";q=1;w=10"));
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        await h.Drive(client.PostAsJsonAsync("x", 1));
        await h.Drive(client.PostAsJsonAsync("x", 2));

        Assert.True(h.Since(start, 1) >= TimeSpan.FromSeconds(10) + Margin);
        Assert.Contains(new ClientRate(1, TimeSpan.FromSeconds(10)), h.Options.Registry.Find("http://api.test|write")!.Rates);
    }

    [Fact]
    public async Task AnExhaustedXRateLimitWindow_PausesUntilItsReset()
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.OK, ("X-RateLimit-Limit", "60"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "20"));
        using var client = h.NewClient();
        var start = h.Time.GetUtcNow();

        await h.Drive(client.GetAsync("a"));
        await h.Drive(client.GetAsync("b"));

        Assert.True(h.Since(start, 1) >= TimeSpan.FromSeconds(20));
    }

    [Theory]
    [InlineData("X-RateLimit-Reset", "99999999999999")]
    [InlineData("RateLimit", "\"p\";r=0;t=9223372036854775807")]
    public async Task AResetPastAnyDate_FailsFastAsTooLongAWait_InsteadOfOverflowing(string header, string value)
    {
        var h = new ClientHarness();
        h.Server.Then(HttpStatusCode.TooManyRequests, (header, value));
        using var client = h.NewClient();

        var error = await Assert.ThrowsAsync<SluiceRateLimitedException>(() => client.GetAsync("items"));

        Assert.True(error.RetryAfter >= RateLimitHeaderParser.LongestWait);
        Assert.Single(h.Server.Received);
    }

    [Fact]
    public async Task AnXRateLimitWindow_IsInferredFromTwoResets_AndPacesTheScope()
    {
        var h = new ClientHarness();
        var start = h.Time.GetUtcNow();
        var firstReset = start.ToUnixTimeSeconds() + 10;
        h.Server
            .Then(HttpStatusCode.OK, ("X-RateLimit-Limit", "2"), ("X-RateLimit-Remaining", "1"), ("X-RateLimit-Reset", firstReset.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .Then(HttpStatusCode.OK, ("X-RateLimit-Limit", "2"), ("X-RateLimit-Remaining", "1"), ("X-RateLimit-Reset", (firstReset + 60).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var client = h.NewClient();

        await h.Drive(client.GetAsync("a"));
        h.Time.Advance(TimeSpan.FromSeconds(15));
        await h.Drive(client.GetAsync("b"));
        await h.Drive(client.GetAsync("c"));

        Assert.Contains(new ClientRate(2, TimeSpan.FromMinutes(1)), h.Options.Registry.Find("http://api.test|read")!.Rates);
        Assert.True(h.Since(start, 2) >= TimeSpan.FromMinutes(1), $"the third request went at {h.Since(start, 2)}");
    }

    [Fact]
    public async Task WithPacingOff_OnlyRetriesHappen()
    {
        var h = new ClientHarness(o =>
        {
            o.Pacing = false;
            o.WriteRates.Add(ClientRate.Parse("1/min"));
        });
        using var client = h.NewClient();

        await client.PostAsJsonAsync("x", 1);
        await client.PostAsJsonAsync("x", 2);

        Assert.Equal(2, h.Server.Received.Count);
        Assert.Empty(h.Options.Registry.Scopes);
    }

    [Fact]
    public void Scopes_AreHostReadOrWriteAndTheDomainSegment()
    {
        var handler = new SluiceClientHandler(new SluiceClientOptions());

        Assert.Equal("https://desec.io|write|example.com", handler.ScopeOf(new HttpRequestMessage(HttpMethod.Patch, "https://desec.io/api/v1/domains/Example.com/rrsets/")));
        Assert.Equal("https://desec.io|read|example.com", handler.ScopeOf(new HttpRequestMessage(HttpMethod.Get, "https://desec.io/api/v1/domains/example.com/")));
        Assert.Equal("https://desec.io|read", handler.ScopeOf(new HttpRequestMessage(HttpMethod.Get, "https://desec.io/api/v1/domains/")));
    }

    [Fact]
    public void BadOptions_AreRefused_ListingEveryProblem()
    {
        var error = Assert.Throws<ArgumentException>(() => new SluiceClientHandler(new SluiceClientOptions { MaxAttempts = 0, BackoffMultiplier = 0.5 }));

        Assert.Contains("MaxAttempts", error.Message, StringComparison.Ordinal);
        Assert.Contains("BackoffMultiplier", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OptionsThatWouldOverflowAWait_AreRefused_ListingEveryProblem()
    {
        var options = new SluiceClientOptions { SafetyMargin = 1e12, MaxJitter = 1e12, BackoffMultiplier = 1e12, MaxWait = TimeSpan.FromDays(365) };
        options.WriteRates.Add(new ClientRate(1, TimeSpan.FromDays(40_000)));
        options.ReadRates.Add(new ClientRate(0, TimeSpan.FromSeconds(1)));

        var error = Assert.Throws<ArgumentException>(() => new SluiceClientHandler(options));

        Assert.Contains("SafetyMargin is 1000000000000; it must be between 0 and 1.", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxJitter is 1000000000000; it must be between 0 and 10.", error.Message, StringComparison.Ordinal);
        Assert.Contains("BackoffMultiplier is 1000000000000; it must be between 1 and 100.", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxWait is 365.00:00:00; it must be at most 49 days, the longest a timer waits.", error.Message, StringComparison.Ordinal);
        Assert.Contains("WriteRates: 1/40000day has a period over 100 years.", error.Message, StringComparison.Ordinal);
        Assert.Contains("ReadRates: 0/s has a limit below 1.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1/36525day", true)]
    [InlineData("1/36526day", false)]
    [InlineData("1/10600000day", false)]
    public void TheLongestRateThatParses_PacesWithoutOverflowing(string text, bool parses)
    {
        var parsed = ClientRate.TryParse(text, out var rate);
        var waits = new List<TimeSpan>();
        if (parsed)
        {
            var start = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
            var pacer = new PacerRegistry().GetOrAdd("s", [rate], new SluiceClientOptions().Margin, start);
            waits.Add(pacer.Reserve(start));
            waits.Add(pacer.Reserve(start));
        }

        Assert.Equal(parses, parsed);
        Assert.True(!parses || waits[1] > TimeSpan.FromDays(36_525));
    }

    [Fact]
    public void Options_HaveTheDocumentedDefaults()
    {
        var options = new SluiceClientOptions();

        Assert.True(options.Pacing);
        Assert.True(options.LearnFromHeaders);
        Assert.Equal(6, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), options.InitialDelay);
        Assert.Equal(2, options.BackoffMultiplier);
        Assert.Equal(0.5, options.MaxJitter);
        Assert.False(options.RetryNonIdempotentOn5xx);
        Assert.Equal("domains", options.ScopeSegmentAfter);
        Assert.Same(PacerRegistry.Shared, options.Registry);
        Assert.Equal(TimeSpan.FromMinutes(10), options.MaxWait);
        Assert.False(options.Adaptive);
        Assert.Null(options.SharedLimiter);
    }
}
