using System.CommandLine;
using Sluice.Cli.Acme;
using Sluice.Cli.Admin;
using Sluice.Cli.Load;

var root = new RootCommand("sluice: talk to rate-limited APIs without getting throttled.")
{
    AcmeCommand.Create(),
    AdminCommand.Create(),
    LoadCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
