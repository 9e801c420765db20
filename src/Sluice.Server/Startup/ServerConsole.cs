namespace Sluice.Server.Startup;

/// <summary>Where the server prints what an operator must copy once (a generated admin token, the demo key): stdout.</summary>
internal sealed class ServerConsole(TextWriter writer)
{
    public TextWriter Out { get; } = writer;
}
