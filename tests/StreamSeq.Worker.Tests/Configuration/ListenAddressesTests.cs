using Microsoft.Extensions.Configuration;
using StreamSeq.Testing;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Configuration;

/// <summary>
/// Where the worker listens: the shipped settings name no address (so a host's <c>ASPNETCORE_HTTP_PORTS</c> or Kestrel
/// endpoints take effect), the default is the loopback interface on port 8080, and every way of naming an address is
/// checked before the server starts.
/// </summary>
public sealed class ListenAddressesTests
{
    private static IConfiguration Shipped(Dictionary<string, string?>? later = null) =>
        new ConfigurationBuilder()
            .AddJsonFile(RepositoryFiles.Path("src", "StreamSeq.Worker", "appsettings.json"))
            .AddInMemoryCollection(later ?? [])
            .Build();

    [Fact]
    public void AnyConfigured_ShippedAppSettingsAlone_FalseSoTheDefaultOrTheHostDecides()
    {
        Assert.False(ListenAddresses.AnyConfigured(Shipped()));
        Assert.Equal("http://localhost:8080", ListenAddresses.DefaultUrl);
    }

    [Theory]
    [InlineData("urls", "http://0.0.0.0:9000")]
    [InlineData("URLS", "http://0.0.0.0:9000")]
    [InlineData("HTTP_PORTS", "9000")]
    [InlineData("https_ports", "9443")]
    [InlineData("Kestrel:Endpoints:Http:Url", "http://0.0.0.0:9000")]
    public void AnyConfigured_AddressFromAnySource_True(string key, string value)
    {
        Assert.True(ListenAddresses.AnyConfigured(Shipped(new() { [key] = value })));
    }

    [Fact]
    public void FindProblems_KestrelEndpointThatIsNotAnAddress_NamesTheEndpointsKey()
    {
        var problems = ListenAddresses.FindProblems(Shipped(new()
        {
            ["Kestrel:Endpoints:Http:Url"] = "http://0.0.0.0:notaport",
            ["Kestrel:Endpoints:Other:Protocols"] = "Http1",
            ["Kestrel:Endpoints:Fine:Url"] = "http://[::]:9000",
        }));

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("Kestrel:Endpoints:Http:Url: 'http://0.0.0.0:notaport' is not a listen address", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("Kestrel:Endpoints:Other:Url: missing", problems[1], StringComparison.Ordinal);
    }
}
