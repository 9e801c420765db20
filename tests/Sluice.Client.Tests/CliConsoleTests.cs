using Sluice.Cli.Acme;
using Sluice.Cli.Load;
using Sluice.Cli.Output;
using Spectre.Console;

namespace Sluice.Client.Tests;

/// <summary>What the command line writes where its output is not a terminal: a file, a pipe, a CI log.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CliConsoleTests
{
    private static readonly LoadReport s_load = new(1234, new Dictionary<string, int> { ["200"] = 1200, ["429"] = 34 }, 1.5, 2.25, 73.77, 80.68, 12.5);

    [Fact]
    public void RedirectedOutput_HasNoEscapeCodes_AndNoWrappedLines()
    {
        using var writer = new StringWriter();
        var console = CliConsole.Create(writer, isTerminal: false, noColor: false);

        LoadCommand.Print(s_load, asJson: false, console);
        AcmeCommand.Print(new AcmeReport("naive", 6, 17, 5, 8.686, 5.013, 0.01), asJson: false, console);

        var text = writer.ToString();
        Assert.DoesNotContain('\u001b', text);
        Assert.Contains("latency p50 1.50 ms, p90 2.25 ms, p99 73.77 ms, max 80.68 ms; 1234 requests in 12.50 s" + Environment.NewLine, text, StringComparison.Ordinal);
        Assert.Contains("│ naive │ 6     │ 17       │ 5    │ 8.686", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ATerminal_GetsColours_UnlessNoColorIsSet()
    {
        using var colours = new StringWriter();
        using var plain = new StringWriter();

        CliConsole.Create(colours, isTerminal: true, noColor: false).MarkupLine("[blue]x[/]");
        CliConsole.Create(plain, isTerminal: true, noColor: true).MarkupLine("[blue]x[/]");

        Assert.Contains('\u001b', colours.ToString());
        Assert.Equal("x" + Environment.NewLine, plain.ToString());
    }

    [Fact]
    public async Task Progress_IsNotWrittenToARedirectedStream()
    {
        // The test host's standard error is not a terminal: the work runs and nothing is drawn.
        using var console = new ConsoleCapture();
        Assert.True(Console.IsErrorRedirected);
        var result = await CliConsole.WithProgressAsync("GET http://x/[y] at 5/s", 2, async progress =>
        {
            progress(1);
            progress(2);
            await Task.Yield();
            return 42;
        });

        Assert.Equal(42, result);
        Assert.Equal(string.Empty, console.Out);
        Assert.Equal(string.Empty, console.Error);
    }
}
