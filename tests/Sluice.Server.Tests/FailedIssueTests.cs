using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Server.Data;

namespace Sluice.Server.Tests;

public sealed class FailedIssueTests : IAsyncLifetime
{
    private readonly FailingCertificateSaves _failure = new();
    private readonly ServerHost _host;

    public FailedIssueTests() => _host = new ServerHost(services: s => s.ConfigureDbContext<ServerDb>(o => o.AddInterceptors(_failure)));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task ACertificateThatCannotBeStored_DoesNotCountItsRecipient()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        _failure.Failing = true;

        var failed = await ServerHost.Issue(client, "ada@example.com");
        _failure.Failing = false;
        var me = await ServerHost.Json(await client.GetAsync("/api/me"));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(0, me.GetProperty("quota").GetProperty("used").GetInt64());

        // The request was counted: the 500 carries the rate-limit headers, and not the quota headers written before it failed.
        Assert.Equal("59", failed.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.False(failed.Headers.Contains("X-Quota-Remaining"));
    }

    [Fact]
    public async Task ABulkUploadThatCannotBeStored_CountsNoneOfItsRecipients()
    {
        var (_, _, client) = await _host.NewCustomerAsync();
        await ServerHost.Issue(client, "known@example.com");
        _failure.Failing = true;

        var failed = await client.PostAsync("/api/certificates/bulk", new StringContent("recipient_email,recipient_name,course\nknown@example.com,K,C\na@example.com,A,C\nb@example.com,B,C\n", Encoding.UTF8, "text/csv"));
        _failure.Failing = false;
        var me = await ServerHost.Json(await client.GetAsync("/api/me"));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(1, me.GetProperty("quota").GetProperty("used").GetInt64());
    }

    /// <summary>Makes saving certificates fail, as a full disk or a lost database would.</summary>
    private sealed class FailingCertificateSaves : SaveChangesInterceptor
    {
        public volatile bool Failing;

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
            => Failing && eventData.Context!.ChangeTracker.Entries<Certificate>().Any(e => e.State == EntityState.Added)
                ? throw new DbUpdateException("The database is gone (test).")
                : ValueTask.FromResult(result);
    }
}
