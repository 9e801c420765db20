using Sluice.Server.Dns;

namespace Sluice.Server.Tests;

public sealed class DnsPathTests
{
    [Theory]
    [InlineData("www/A/", "www", "A")]
    [InlineData("www/a", "www", "A")]
    [InlineData("@/TXT/", "", "TXT")]
    [InlineData("/MX/", "", "MX")]
    [InlineData("_acme-challenge.Sub/TXT/", "_acme-challenge.sub", "TXT")]
    [InlineData(".../A/", "", "A")]
    [InlineData("www.../A/", "www", "A")]
    [InlineData("_acme-challenge.www.../TXT/", "_acme-challenge.www", "TXT")]
    [InlineData("www@/AAAA/", "www", "AAAA")]
    [InlineData("*.dev.../A/", "*.dev", "A")]
    public void AnRRsetPath_NamesItsSubnameAndType(string path, string subname, string type)
        => Assert.Equal((subname, type), DnsEndpoints.ParsePath(path));

    [Theory]
    [InlineData("www/")]
    [InlineData("www")]
    [InlineData("a/b/c/")]
    [InlineData("bad name/A/")]
    [InlineData("")]
    [InlineData("www..../A/")]
    [InlineData("www...@/A/")]
    [InlineData("@@/A/")]
    public void AnythingElse_IsNotAnRRsetPath(string path) => Assert.Null(DnsEndpoints.ParsePath(path));
}
