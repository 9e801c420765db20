using System.Reflection;
using Sluice.Client.Dns;
using Sluice.Testing;

namespace Sluice.Client.Tests;

/// <summary>docs/configuration.md against the client's options: every option documented, every documented option real.</summary>
public sealed class ConfigurationReferenceTests
{
    private static readonly string ClientSection = ConfigurationReference.Section("## Client: `SluiceClientOptions`");

    [Fact]
    public void EveryClientOption_IsDocumented()
    {
        Assert.Empty(ConfigurationReference.Undocumented(typeof(SluiceClientOptions), ClientSection)
            .Concat(ConfigurationReference.Undocumented(typeof(DnsBulkWriterOptions), ClientSection)));
    }

    [Fact]
    public void EveryOptionTheClientTableNames_IsAnOptionOrARequestKey()
    {
        var rows = ConfigurationReference.RowNames(ClientSection);

        Assert.True(rows.Count >= 15, string.Join(", ", rows));
        Assert.Empty(rows.Where(n => !ConfigurationReference.Resolves(typeof(SluiceClientOptions), n)
            && typeof(SluiceClientOptions).GetField(n, BindingFlags.Public | BindingFlags.Static) is null).ToList());
    }
}
