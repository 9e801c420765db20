namespace Sluice.Client.Tests;

/// <summary>A handler under test on a fake clock, its own pacer registry, and a scripted server; drives waits by moving the clock.</summary>
internal sealed class ClientHarness
{
    public ClientHarness(Action<SluiceClientOptions>? configure = null)
    {
        Options = new SluiceClientOptions { TimeProvider = Time, Registry = new PacerRegistry(), Random = () => 0 };
        configure?.Invoke(Options);
        Server = new ScriptedServer(Time);
    }

    public ManualTimeProvider Time { get; } = new();

    public SluiceClientOptions Options { get; }

    public ScriptedServer Server { get; }

    public HttpClient NewClient() => new(new SluiceClientHandler(Options, Server)) { BaseAddress = new Uri("http://api.test/") };

    /// <summary>Moves the clock in small steps until <paramref name="task"/> completes (at most <paramref name="limit"/>).</summary>
    public async Task<T> Drive<T>(Task<T> task, TimeSpan? limit = null, TimeSpan? step = null)
    {
        var end = Time.GetUtcNow() + (limit ?? TimeSpan.FromMinutes(10));
        while (!task.IsCompleted && Time.GetUtcNow() < end)
        {
            // Let the code under test reach its next wait, then jump straight to the earliest timer.
            await Task.Delay(1);
            if (task.IsCompleted)
            {
                break;
            }

            var next = Time.UntilNextTimer;
            Time.Advance(next is { } due && due > TimeSpan.Zero ? due : step ?? TimeSpan.FromMilliseconds(5));
        }

        return await task;
    }

    public async Task Drive(Task task, TimeSpan? limit = null)
        => await Drive(task.ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default), limit);

    public TimeSpan Since(DateTimeOffset start, int request) => Server.Received[request].At - start;
}
