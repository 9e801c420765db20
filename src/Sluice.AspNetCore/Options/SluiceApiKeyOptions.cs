namespace Sluice.AspNetCore;

/// <summary>How the <c>ApiKey</c> key is read: <c>Sluice:ApiKey</c>.</summary>
public sealed class SluiceApiKeyOptions
{
    /// <summary>
    /// Authorization schemes whose credential is the API key. Empty (the default) means <c>Bearer</c> and <c>Token</c>;
    /// a default list would be appended to, not replaced, by the configuration binder.
    /// </summary>
    public IList<string> AuthorizationSchemes { get; set; } = [];

    /// <summary>A header that carries the key as is, read when no Authorization scheme matched; empty to disable. The default is <c>X-API-Key</c>.</summary>
    public string Header { get; set; } = "X-API-Key";
}
