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

    /// <summary>
    /// Moves the clock to each next timer until <paramref name="task"/> completes (at most <paramref name="limit"/> of
    /// fake time, 10 minutes by default, and 30 s of real time). While no timer is pending the code under test is still
    /// running or waits on something real (a socket), so the clock stays put: moving it then would race the code's next
    /// timer, which would start late. Only a caller that passes <paramref name="step"/> has the clock moved by it then.
    /// </summary>
    public async Task<T> Drive<T>(Task<T> task, TimeSpan? limit = null, TimeSpan? step = null)
    {
        var end = Time.GetUtcNow() + (limit ?? TimeSpan.FromMinutes(10));
        var realEnd = Environment.TickCount64 + 30_000;
        while (!task.IsCompleted && Time.GetUtcNow() < end)
        {
            // Let the code under test reach its next wait, then jump straight to the earliest timer.
            await Task.Delay(1);
            if (task.IsCompleted)
            {
                break;
            }

            if (Environment.TickCount64 > realEnd)
            {
                throw new TimeoutException("The task under test did not complete within 30 s of real time.");
            }

            if (Time.UntilNextTimer is { } due)
            {
                Time.Advance(due);
            }
            else if (step is { } by)
            {
                Time.Advance(by);
            }
        }

        return await task;
    }

    public async Task Drive(Task task, TimeSpan? limit = null)
        => await Drive(task.ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default), limit);

    public TimeSpan Since(DateTimeOffset start, int request) => Server.Received[request].At - start;
}
