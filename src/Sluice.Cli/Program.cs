using System.CommandLine;
using Sluice.Cli.Acme;
using Sluice.Cli.Admin;
using Sluice.Cli.Load;

namespace Sluice.Cli;

/// <summary>The <c>sluice</c> command line.</summary>
internal static class SluiceCommandLine
{
    public static RootCommand Create() => new("sluice: talk to rate-limited APIs without getting throttled.")
    {
        AcmeCommand.Create(),
        AdminCommand.Create(),
        LoadCommand.Create(),
    };

    public static Task<int> Main(string[] args) => Create().Parse(args).InvokeAsync();
}
