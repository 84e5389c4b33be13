using System.Collections;
using Microsoft.Extensions.Configuration;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Configuration;

/// <summary>Problems name where the value came from; two environment variables for one setting are a problem.</summary>
public sealed class SettingSourcesTests : IDisposable
{
    private readonly Scratch scratch = new("streamseq-sources-");

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void FindEnvironmentConflicts_OneSettingSpelledTwiceWithDifferentValues_OneProblemNamingBothVariables()
    {
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        IDictionary environment = new Hashtable
        {
            ["StreamSeq__Processing__Lag"] = "1",
            ["STREAMSEQ__PROCESSING__LAG"] = "2",
            ["StreamSeq__Processing__Horizon"] = "3",
            ["STREAMSEQ__PROCESSING__HORIZON"] = "3",
            ["PATH"] = "/bin",
        };

        var problem = Assert.Single(SettingSources.FindEnvironmentConflicts(configuration, environment));

        Assert.StartsWith("StreamSeq:Processing:Lag: set by 2 environment variables with different values (STREAMSEQ__PROCESSING__LAG='2', StreamSeq__Processing__Lag='1')", problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void FindEnvironmentConflicts_ConfigurationWithoutEnvironmentVariables_None()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection().Build();

        Assert.Empty(SettingSources.FindEnvironmentConflicts(configuration, new Hashtable { ["StreamSeq__A"] = "1", ["STREAMSEQ__A"] = "2" }));
    }

    [Fact]
    public void Annotate_ValueFromASettingsFile_NamesTheFileAfterTheKey()
    {
        var path = scratch.File("appsettings.json");
        File.WriteAllText(path, """{"StreamSeq":{"Processing":{"Lag":-1},"Models":[{"components":[{"levelNoise":"x"}]}]}}""");
        var configuration = new ConfigurationBuilder().AddJsonFile(path).AddInMemoryCollection(new Dictionary<string, string?> { ["StreamSeq:Processing:Horizon"] = "-1" }).Build();

        Assert.Equal($"StreamSeq:Processing:Lag (from {path}): must be between 0 and 1000, got -1.", SettingSources.Annotate(configuration, "StreamSeq:Processing:Lag: must be between 0 and 1000, got -1."));
        Assert.Equal($"StreamSeq:Models:0:components[0]:levelNoise (from {path}): bad", SettingSources.Annotate(configuration, "StreamSeq:Models:0:components[0]:levelNoise: bad"));
        Assert.Equal("StreamSeq:Processing:Horizon: bad", SettingSources.Annotate(configuration, "StreamSeq:Processing:Horizon: bad"));
        Assert.Equal("nothing like a key", SettingSources.Annotate(configuration, "nothing like a key"));
    }
}
