using System.Collections.Concurrent;

namespace Sluice.Client;

/// <summary>
/// The process's pacing state: one <see cref="ScopePacer"/> per scope, shared by every handler, HttpClient and caller
/// that uses the same registry (<see cref="Shared"/> unless one is given, so learned limits and pauses after a 429 reach
/// every caller in the process).
/// </summary>
public sealed class PacerRegistry
{
    private readonly ConcurrentDictionary<string, ScopePacer> _pacers = new(StringComparer.Ordinal);

    /// <summary>The registry every handler uses by default.</summary>
    public static PacerRegistry Shared { get; } = new();

    /// <summary>The scopes seen so far.</summary>
    public IReadOnlyCollection<string> Scopes => (IReadOnlyCollection<string>)_pacers.Keys;

    /// <summary>The pacer of <paramref name="scope"/>, created with <paramref name="rates"/> on first use.</summary>
    public ScopePacer GetOrAdd(string scope, IReadOnlyList<ClientRate> rates, Func<TimeSpan, TimeSpan> margin)
        => _pacers.GetOrAdd(scope, static (key, arg) => new ScopePacer(key, arg.rates, arg.margin), (rates, margin));

    /// <summary>The pacer of <paramref name="scope"/> if it exists.</summary>
    public ScopePacer? Find(string scope) => _pacers.GetValueOrDefault(scope);
}
