using Sluice.AspNetCore;
using Sluice.Memory;
using Sluice.Quotas;
using Sluice.Redis;
using Sluice.Server.Certificates;
using Sluice.Server.Dns;
using Sluice.Server.Quotas;
using Sluice.Testing;

namespace Sluice.Server.Tests;

/// <summary>docs/configuration.md against the options types: every setting documented, every documented setting real.</summary>
public sealed class ConfigurationReferenceTests
{
    private static readonly string SluiceSection = ConfigurationReference.Section("## ASP.NET Core: the `Sluice` section");

    [Fact]
    public void EverySettingOfTheSluiceSection_IsDocumented()
    {
        var missing = ConfigurationReference.Undocumented(typeof(SluiceOptions), SluiceSection, "Sluice:")
            .Concat(ConfigurationReference.Undocumented(typeof(SluiceClientIpOptions), SluiceSection, "Sluice:ClientIp:"))
            .Concat(ConfigurationReference.Undocumented(typeof(SluiceApiKeyOptions), SluiceSection, "Sluice:ApiKey:"))
            .Concat(ConfigurationReference.Undocumented(typeof(SluiceLayerOptions), ConfigurationReference.Section("### `Sluice:Layers:<name>`")
                + ConfigurationReference.Section("## ASP.NET Core: the `Sluice` section"), "Sluice:Layers:<name>:"));

        Assert.Empty(missing);
    }

    [Fact]
    public void EveryKeyTheSluiceTablesName_IsASetting()
    {
        var top = ConfigurationReference.RowNames(SluiceSection).Where(n => n.StartsWith("Sluice:", StringComparison.Ordinal)).ToList();
        var layer = ConfigurationReference.RowNames(ConfigurationReference.Section("### `Sluice:Layers:<name>`"));

        Assert.True(top.Count >= 10, string.Join(", ", top));
        Assert.True(layer.Count >= 10, string.Join(", ", layer));
        Assert.Empty(top.Where(n => !ConfigurationReference.Resolves(typeof(SluiceOptions), n["Sluice:".Length..])).ToList());
        Assert.Empty(layer.Where(n => !ConfigurationReference.Resolves(typeof(SluiceLayerOptions), n)).ToList());
    }

    [Theory]
    [InlineData(typeof(RedisRateLimitStoreOptions), "## `Sluice:Redis`")]
    [InlineData(typeof(MemoryRateLimitStoreOptions), "## `MemoryRateLimitStoreOptions`")]
    [InlineData(typeof(Sluice.RateLimiting.SluiceRateLimiterOptions), "## `SluiceRateLimiterOptions`")]
    public void EveryStoreOption_IsDocumented_AndEveryRowIsAnOption(Type options, string heading)
    {
        var section = ConfigurationReference.Section(heading);
        var rows = ConfigurationReference.RowNames(section);

        Assert.Empty(ConfigurationReference.Undocumented(options, section));
        Assert.NotEmpty(rows);
        Assert.Empty(rows.Where(n => !ConfigurationReference.Resolves(options, n)).ToList());
    }

    [Fact]
    public void EveryQuotaStoreOption_IsDocumented()
    {
        var section = ConfigurationReference.Section("## Quotas (core)");

        Assert.Empty(new[] { typeof(QuotaRequest), typeof(SqliteQuotaStoreOptions), typeof(RedisQuotaStoreOptions) }
            .SelectMany(t => ConfigurationReference.Undocumented(t, section, t.Name + ".")));
    }

    [Fact]
    public void EveryReferenceServerSetting_IsDocumented()
    {
        var section = ConfigurationReference.Section("## The reference server");

        Assert.Empty(ConfigurationReference.Undocumented(typeof(DnsOptions), section, "Dns:")
            .Concat(ConfigurationReference.Undocumented(typeof(BulkUploadOptions), section, "Certificates:"))
            .Concat(ConfigurationReference.Undocumented(typeof(QuotaOptions), section, "Quotas:")));
    }

    [Fact]
    public void TheCheck_FindsASettingTheDocsLeaveOut()
    {
        Assert.Equal(["Sluice:Enabled"], ConfigurationReference.Undocumented(typeof(OnlyEnabled), "| `Sluice:Store` | x |", "Sluice:"));
        Assert.False(ConfigurationReference.Resolves(typeof(SluiceOptions), "ClientIp:TrustedProxy"));
        Assert.True(ConfigurationReference.Resolves(typeof(SluiceOptions), "Layers:auth:Rates"));
    }

    private sealed class OnlyEnabled
    {
        public bool Enabled { get; set; }
    }
}
