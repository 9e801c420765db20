namespace Sluice.Cli.Acme;

/// <summary>How the lego scenario writes its records.</summary>
internal enum AcmeMode
{
    /// <summary>One request per write, back to back, retrying on 429 (what lego does).</summary>
    Naive,

    /// <summary>One request per write through the pacing handler.</summary>
    Paced,

    /// <summary>Writes coalesced into one bulk request per phase.</summary>
    Bulk,
}
