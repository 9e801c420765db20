using Spectre.Console;

namespace Sluice.Cli.Output;

/// <summary>
/// Where the command line writes: results to standard output, progress to standard error, as curl and git do, so
/// that <c>sluice acme … &gt; run.txt</c> keeps only the results. Escape codes and colours are written only to a
/// terminal, and never when <c>NO_COLOR</c> is set; progress is shown only on a terminal.
/// </summary>
/// <remarks>
/// Spectre.Console 0.49 decides that a console is interactive from standard input alone, so its progress display
/// wrote cursor movements and colours into redirected output (spectreconsole/spectre.console#1810): this type decides
/// from each stream itself instead.
/// </remarks>
internal static class CliConsole
{
    /// <summary>Width of output that is not a terminal: wide enough that no report line wraps.</summary>
    internal const int RedirectedWidth = 500;

    private static bool NoColor => Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 };

    /// <summary>The console for results, on standard output (<see cref="Console.Out"/> as it is now).</summary>
    public static IAnsiConsole Results() => Create(Console.Out, !Console.IsOutputRedirected, NoColor);

    /// <summary>The console for progress, on standard error; null when standard error is not a terminal.</summary>
    public static IAnsiConsole? Progress() => Console.IsErrorRedirected ? null : Create(Console.Error, isTerminal: true, NoColor);

    /// <summary>A console writing to <paramref name="writer"/>.</summary>
    /// <param name="writer">Where the output goes.</param>
    /// <param name="isTerminal">Whether <paramref name="writer"/> is a terminal: else no escape codes, no colours and no wrapping.</param>
    /// <param name="noColor">Whether the user asked for no colours (<c>NO_COLOR</c>).</param>
    internal static IAnsiConsole Create(TextWriter writer, bool isTerminal, bool noColor)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = !isTerminal ? AnsiSupport.No : noColor ? AnsiSupport.Detect : AnsiSupport.Yes,
            ColorSystem = isTerminal && !noColor ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isTerminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!isTerminal)
        {
            console.Profile.Width = RedirectedWidth;
        }

        return console;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar named <paramref name="description"/> on a terminal, or
    /// without one; <paramref name="work"/> reports how much of <paramref name="total"/> is done.
    /// </summary>
    public static async Task<T> WithProgressAsync<T>(string description, double total, Func<Action<double>, Task<T>> work)
    {
        if (Progress() is not { } console)
        {
            return await work(_ => { });
        }

        return await console.Progress().StartAsync(async context =>
        {
            var task = context.AddTask(Markup.Escape(description), maxValue: total);
            return await work(done => task.Value = done);
        });
    }
}
