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

    [Theory]
    [InlineData("http://127.0.0.l:8080", "'127.0.0.l' is neither an IP address nor localhost, and Kestrel would listen on every interface for it")]
    [InlineData("http://locahost:8080", "'locahost' is neither an IP address nor localhost")]
    [InlineData("http://256.1.1.1:8080", "'256.1.1.1' is neither an IP address nor localhost")]
    [InlineData("http://127.0.0.1:8080/streamseq", "a path ('/streamseq') where only an address belongs")]
    public void FindProblems_HostNameOrPathKestrelWouldNotHonour_NamesUrlsAndWhy(string url, string expected)
    {
        // A typo of the loopback address used to start a worker listening on every interface ("Now listening on: http://[::]:8080").
        var problem = Assert.Single(ListenAddresses.FindProblems(Shipped(new() { ["Urls"] = url })));

        Assert.Contains($"Urls: '{url}' is not a listen address ({expected}", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost:8080")]
    [InlineData("http://LOCALHOST:8080/")]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://[::]:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://+:8080")]
    public void FindProblems_AddressesKestrelHonours_None(string url) => Assert.Empty(ListenAddresses.FindProblems(Shipped(new() { ["Urls"] = url })));
}
