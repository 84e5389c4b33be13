using Microsoft.Extensions.Configuration;
using StreamSeq.Testing;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Configuration;

/// <summary>
/// Which broker the worker uses, from the configuration sources as the host builds them: the shipped appsettings.json
/// (which says <c>StreamSeq:Embedded:Enabled=auto</c>), then other files, environment variables and the command line.
/// </summary>
public sealed class WorkerSettingsTests
{
    private static readonly string Shipped = File.ReadAllText(RepositoryFiles.Path("src", "StreamSeq.Worker", "appsettings.json"));

    private static IConfigurationRoot Sources(string appSettings, params Dictionary<string, string?>[] later)
    {
        var builder = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(appSettings)));
        foreach (var source in later)
        {
            builder.AddInMemoryCollection(source);
        }

        return builder.Build();
    }

    [Fact]
    public void Load_ShippedAppSettingsAlone_EmbeddedBrokerAndDashboard()
    {
        var settings = WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?> { ["Urls"] = "http://127.0.0.1:0", ["Logging:LogLevel:Default"] = "Warning" }));

        Assert.True(settings.UsesEmbeddedBroker);
        Assert.True(settings.DashboardEnabled);
        Assert.Equal(3, settings.Router.Models.Count);
    }

    [Fact]
    public void Load_ShippedAppSettingsWithABrokerList_TheClusterAndItsModels()
    {
        var settings = WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?> { ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092" }));

        Assert.False(settings.UsesEmbeddedBroker);
        Assert.False(settings.DashboardEnabled);
        Assert.Equal("kafka:9092", settings.Kafka.BootstrapServers);

        // The shipped file's demo values for the simulator are not the user's: nothing to warn about.
        Assert.Empty(settings.IgnoredSettings);
    }

    [Fact]
    public void Load_EmbeddedSettingsGivenWithABrokerList_EachNamedAsIgnoredAndTheWorkerStarts()
    {
        var settings = WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?>
        {
            ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092",
            ["StreamSeq:Embedded:Streams"] = "100",
            ["StreamSeq:Embedded:Simulator"] = "true",
        }));

        Assert.False(settings.UsesEmbeddedBroker);
        Assert.Equal(
            [
                "StreamSeq:Embedded:Simulator: applies to the embedded broker and simulator only, and the worker uses the cluster of StreamSeq:Kafka:BootstrapServers; it has no effect.",
                "StreamSeq:Embedded:Streams: applies to the embedded broker and simulator only, and the worker uses the cluster of StreamSeq:Kafka:BootstrapServers; it has no effect.",
            ],
            settings.IgnoredSettings);
    }

    [Fact]
    public void Load_EmbeddedSettingsGivenForTheEmbeddedBroker_NothingIgnored()
    {
        var settings = WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?>
        {
            ["StreamSeq:Embedded:Enabled"] = "true",
            ["StreamSeq:Embedded:Streams"] = "100",
        }));

        Assert.True(settings.UsesEmbeddedBroker);
        Assert.Empty(settings.IgnoredSettings);
    }

    [Theory]
    [InlineData("StreamSeq:Processing:Lag", "2")]
    [InlineData("StreamSeq:Embedded:Streams", "6")]
    [InlineData("StreamSeq:Kafka:BootstrapServers", " ")]
    public void Load_ShippedAppSettingsWithAnotherStreamSeqSettingButNoBroker_StopsNamingIt(string key, string value)
    {
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?> { [key] = value })));

        var problem = Assert.Single(e.Problems);
        Assert.StartsWith("StreamSeq:Kafka:BootstrapServers: not set", problem, StringComparison.Ordinal);
        Assert.Contains(key, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TopicNameKafkaRefuses_StopsBeforeAnyClientNamingTheSetting()
    {
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?>
        {
            ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092",
            ["StreamSeq:Kafka:AnomalyTopic"] = "alerts/pump",
        })));

        Assert.Equal("StreamSeq:Kafka:AnomalyTopic: 'alerts/pump' has '/' at position 7; a topic name uses only letters a-z and A-Z, digits, '.', '_' and '-'.", Assert.Single(e.Problems));
    }

    [Fact]
    public void Load_OutputTopicSetToTheInputTopic_StopsNamingTheSettingWrittenAndTheDefaultItCollidesWith()
    {
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?>
        {
            ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092",
            ["StreamSeq:Kafka:FilteredTopic"] = "streamseq.readings",
        })));

        Assert.Equal(
            "StreamSeq:Kafka:FilteredTopic: topic 'streamseq.readings' is also the topic of StreamSeq:Kafka:InputTopic (its default); input, outputs, dead letters and changelog need distinct topics.",
            Assert.Single(e.Problems));
    }

    [Fact]
    public void Load_TwoTopicSettingsGivenOneTopic_OneLinePerSettingEachNamingWhereItsValueCameFrom()
    {
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-topics-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"StreamSeq":{"Kafka":{"SmoothedTopic":"pumps.out"}}}""");
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Shipped)))
                .AddJsonFile(path)
                .AddInMemoryCollection(new Dictionary<string, string?> { ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092", ["StreamSeq:Kafka:ForecastTopic"] = "pumps.out" })
                .Build();

            var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(configuration));

            Assert.Equal(
                [
                    $"StreamSeq:Kafka:SmoothedTopic (from {path}): topic 'pumps.out' is also the topic of StreamSeq:Kafka:ForecastTopic; input, outputs, dead letters and changelog need distinct topics.",
                    "StreamSeq:Kafka:ForecastTopic: topic 'pumps.out' is also the topic of StreamSeq:Kafka:SmoothedTopic; input, outputs, dead letters and changelog need distinct topics.",
                ],
                e.Problems);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("memory", "all", "StreamSeq:Processing:Standby: all needs StreamSeq:Processing:StateStore=rocksdb (a standby copy is a disk store), got StateStore=memory.")]
    [InlineData("rocksdb", "some", "StreamSeq:Processing:Standby: must be none or all, got 'some'.")]
    public void Load_StandbyWithoutTheDiskStoreOrAnUnknownValue_StopsWithOneLineNamingIt(string store, string standby, string message)
    {
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?>
        {
            ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092",
            ["StreamSeq:Processing:StateStore"] = store,
            ["StreamSeq:Processing:Standby"] = standby,
        })));

        Assert.Equal(message, Assert.Single(e.Problems));
    }

    [Fact]
    public void Load_StandbyAllWithTheDiskStore_ReachesTheStoreOptions()
    {
        var settings = WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?>
        {
            ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092",
            ["StreamSeq:Processing:StateStore"] = "rocksdb",
            ["StreamSeq:Processing:Standby"] = "ALL",
        }));

        Assert.True(settings.Processing.ToStoreOptions().Standby);
    }

    [Fact]
    public void Load_ParametersFileThatCannotBeRead_StopsNamingTheSettingAndTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-missing-{Guid.NewGuid():N}.jsonl");
        var cluster = new Dictionary<string, string?> { ["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092" };
        Assert.Null(WorkerSettings.Load(Sources(Shipped, cluster)).StartingParameters);

        cluster["StreamSeq:Processing:ParametersFile"] = path;
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, cluster)));

        var problem = Assert.Single(e.Problems);
        Assert.StartsWith($"StreamSeq:Processing:ParametersFile: {path}: parameter table not found", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SettingsInAnotherFile_CountAsGiven()
    {
        var production = new Dictionary<string, string?> { ["StreamSeq:Processing:Horizon"] = "1" };

        Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, production)));
    }

    [Fact]
    public void Load_EmbeddedAskedForWithOtherSettings_EmbeddedBroker()
    {
        var settings = WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?> { ["StreamSeq:Embedded:Enabled"] = "true", ["StreamSeq:Embedded:Streams"] = "6" }));

        Assert.True(settings.UsesEmbeddedBroker);
        Assert.Equal(6, settings.Embedded.Streams);
    }

    [Fact]
    public void Load_ReplacedAppSettingsWithoutBrokerList_StopsInsteadOfStartingTheDemo()
    {
        // A deployment's own settings file (the Helm chart mounts one) has no 'auto': a missing broker list is an error.
        const string Mounted = """{"StreamSeq":{"Kafka":{"GroupId":"fleet"},"Models":[{"name":"ll","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":0.1}],"observationNoise":[[1]]}]}}""";

        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Mounted)));

        Assert.Equal("StreamSeq:Kafka:BootstrapServers: not set; give the Kafka cluster's broker list (host:port,...), or StreamSeq:Embedded:Enabled=true for the embedded broker and simulator.", Assert.Single(e.Problems));
    }

    [Fact]
    public void Load_EnabledNeitherTrueFalseNorAuto_StopsNamingIt()
    {
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?> { ["StreamSeq:Embedded:Enabled"] = "yes" })));

        Assert.Equal("StreamSeq:Embedded:Enabled: must be true, false or auto, got 'yes'.", Assert.Single(e.Problems));
    }

    [Fact]
    public void Load_UnknownSettingsNeitherFailNorWarn_StopsNamingIt()
    {
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?> { ["StreamSeq:UnknownSettings"] = "ignore" })));

        Assert.StartsWith("StreamSeq:UnknownSettings:", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_InvalidAlertWebhook_StopsWithOneLinePerSetting()
    {
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?>
        {
            ["StreamSeq:Embedded:Enabled"] = "true",
            ["StreamSeq:Alerts:Webhook:Url"] = "notaurl",
            ["StreamSeq:Alerts:Webhook:MaxBatchSize"] = "0",
        })));

        Assert.Equal(2, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.StartsWith("StreamSeq:Alerts:Webhook:Url: ", StringComparison.Ordinal) && p.Contains("'notaurl'", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("StreamSeq:Alerts:Webhook:MaxBatchSize: ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("StreamSeq:Api:QueryTimeout", "0s", "StreamSeq:Api:QueryTimeout: must be between 1s and 5m, got 0s.")]
    [InlineData("StreamSeq:Api:QueryTimeout", "1h", "StreamSeq:Api:QueryTimeout: must be between 1s and 5m, got 1h.")]
    [InlineData("StreamSeq:Api:QueryTimeout", "soon", "StreamSeq:Api:QueryTimeout: 'soon' is not a duration (100ms, 15s, 1m, 1h30m, or hh:mm:ss[.fff] such as 00:00:00.250, or d.hh:mm:ss).")]
    [InlineData("StreamSeq:Api:MaxPendingQueries", "0", "StreamSeq:Api:MaxPendingQueries: must be between 1 and 100000, got 0.")]
    [InlineData("StreamSeq:Api:MaxPendingQueries", "many", "StreamSeq:Api:MaxPendingQueries: 'many' is not a whole number.")]
    [InlineData("StreamSeq:Dashboard:MaxLiveFeeds", "0", "StreamSeq:Dashboard:MaxLiveFeeds: must be between 1 and 100000, got 0.")]
    [InlineData("StreamSeq:Dashboard:MaxLiveFeeds", "-3", "StreamSeq:Dashboard:MaxLiveFeeds: must be between 1 and 100000, got -3.")]
    [InlineData("StreamSeq:Dashboard:FeedWriteTimeout", "0s", "StreamSeq:Dashboard:FeedWriteTimeout: must be between 1s and 10m, got 0s.")]
    [InlineData("StreamSeq:Dashboard:FeedWriteTimeout", "1h", "StreamSeq:Dashboard:FeedWriteTimeout: must be between 1s and 10m, got 1h.")]
    public void Load_HttpLimitOutOfRangeOrNotANumber_StopsWithOneLineNamingIt(string key, string value, string message)
    {
        var e = Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?> { ["StreamSeq:Embedded:Enabled"] = "true", [key] = value })));

        Assert.Equal(message, Assert.Single(e.Problems));
    }

    [Fact]
    public void Load_HttpLimits_DefaultsOrTheGivenValues()
    {
        var defaults = WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?> { ["StreamSeq:Embedded:Enabled"] = "true" }));
        Assert.Equal((TimeSpan.FromSeconds(5), 256, 100, TimeSpan.FromSeconds(10)), (defaults.Api.QueryTimeout, defaults.Api.MaxPendingQueries, defaults.Dashboard.MaxLiveFeeds, defaults.Dashboard.FeedWriteTimeout));

        var given = WorkerSettings.Load(Sources(Shipped, new Dictionary<string, string?>
        {
            ["StreamSeq:Embedded:Enabled"] = "true",
            ["StreamSeq:Api:QueryTimeout"] = "1.5s",
            ["StreamSeq:Api:MaxPendingQueries"] = "10",
            ["StreamSeq:Dashboard:MaxLiveFeeds"] = "7",
            ["StreamSeq:Dashboard:FeedWriteTimeout"] = "3s",
        }));
        Assert.Equal((TimeSpan.FromSeconds(1.5), 10, 7, TimeSpan.FromSeconds(3)), (given.Api.QueryTimeout, given.Api.MaxPendingQueries, given.Dashboard.MaxLiveFeeds, given.Dashboard.FeedWriteTimeout));
    }
}
