using Sluice.Client;

namespace Sluice.Cli.Acme;

/// <summary>The inputs of one lego-scenario run.</summary>
internal sealed record AcmeSettings(Uri Server, string Token, string Domain, int Names, AcmeMode Mode, IReadOnlyList<ClientRate> Rates);
