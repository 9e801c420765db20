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

    /// <inheritdoc cref="FakeClock.DriveAsync{T}" />
    public Task<T> Drive<T>(Task<T> task, TimeSpan? limit = null, TimeSpan? step = null) => FakeClock.DriveAsync(Time, task, limit, step);

    public async Task Drive(Task task, TimeSpan? limit = null)
        => await Drive(task.ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default), limit);

    public TimeSpan Since(DateTimeOffset start, int request) => Server.Received[request].At - start;
}
