using Microsoft.Extensions.Configuration;
using StreamSeq.Testing;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Configuration;

public sealed class SettingsCatalogTests
{
    [Theory]
    [InlineData("StreamSeq:Kafka:BootstrapServers")]
    [InlineData("StreamSeq:kafka:bootstrapservers")]
    [InlineData("StreamSeq:Kafka:Client:sasl.password")]
    [InlineData("StreamSeq:Kafka:CommitInterval")]
    [InlineData("StreamSeq:Processing:AllowedLateness")]
    [InlineData("StreamSeq:Embedded:Streams")]
    [InlineData("StreamSeq:Routes:3:StreamPattern")]
    [InlineData("StreamSeq:ModelFiles:0")]
    [InlineData("StreamSeq:DefaultModel")]
    [InlineData("StreamSeq:ModelSettings:room-temperature:Lag")]
    [InlineData("StreamSeq:Models:0:components:1:harmonics")]
    [InlineData("StreamSeq:Api:QueryTimeout")]
    [InlineData("StreamSeq:Api:MaxPendingQueries")]
    [InlineData("StreamSeq:Dashboard:MaxLiveFeeds")]
    [InlineData("StreamSeq:Dashboard:FeedWriteTimeout")]
    [InlineData("Logging:LogLevel:Default")]
    public void IsKnown_SettingTheWorkerReads_True(string key) => Assert.True(SettingsCatalog.IsKnown(key));

    [Theory]
    [InlineData("StreamSeq:Kafka:BootstrapServer")]
    [InlineData("StreamSeq:Kafka:EffectiveInstanceId")]
    [InlineData("StreamSeq:Kafka:Client")]
    [InlineData("StreamSeq:Kafka:GroupId:Extra")]
    [InlineData("StreamSeq:Routes:first:Model")]
    [InlineData("StreamSeq:Routes:0:Pattern")]
    [InlineData("StreamSeq:ModelSettings:room-temperature:Smoothing")]
    [InlineData("StreamSeq:Procesing:Lag")]
    [InlineData("StreamSeq:Api:Timeout")]
    [InlineData("StreamSeq")]
    public void IsKnown_MisspeltOrMisplacedKey_False(string key) => Assert.False(SettingsCatalog.IsKnown(key));

    [Fact]
    public void FindUnknown_TypoInEnvironmentVariable_NamesTheKeyAndTheSettingItMeant()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [WorkerSettingsCheck.EnvironmentKey("StreamSeq__Kafka__BootstapServers")] = "kafka:9092",
            [WorkerSettingsCheck.EnvironmentKey("StreamSeq__Kafka__GroupId")] = "g",
            [WorkerSettingsCheck.EnvironmentKey("StreamSeq__Procesing__Lag")] = "2",
        }).Build();

        var unknown = SettingsCatalog.FindUnknown(configuration);

        Assert.Equal(
            [
                "StreamSeq:Kafka:BootstapServers: not a setting the worker reads (did you mean StreamSeq:Kafka:BootstrapServers?).",
                "StreamSeq:Procesing:Lag: not a setting the worker reads (did you mean StreamSeq:Processing?).",
            ],
            unknown);
    }

    [Fact]
    public void FindUnknown_EmptyArraysAndObjectsInJson_NotReported()
    {
        var configuration = WorkerSettingsCheck.Build("""{"StreamSeq":{"Routes":[],"ModelSettings":{},"Kafka":{"Client":{}},"Nonsense":[]}}""", []);

        Assert.Equal(["StreamSeq:Nonsense: not a setting the worker reads."], SettingsCatalog.FindUnknown(configuration));
    }

    [Fact]
    public void FindUnknown_WorkerAppSettings_AllKeysKnownAndTheWorkerStarts()
    {
        var configuration = WorkerSettingsCheck.Build(File.ReadAllText(RepositoryFiles.Path("src", "StreamSeq.Worker", "appsettings.json")), []);

        var outcome = WorkerSettingsCheck.Validate(configuration);

        Assert.Empty(outcome.UnknownKeys);
        Assert.NotEmpty(outcome.Router.Models);
    }
}
