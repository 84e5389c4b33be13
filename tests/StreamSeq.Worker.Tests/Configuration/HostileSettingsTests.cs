using System.Text;
using Microsoft.Extensions.Configuration;
using StreamSeq.Testing;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Configuration;

/// <summary>
/// Settings an adversary (or a tired operator) would write, on top of the shipped appsettings.json with a cluster: each
/// one stops the start with one line naming the setting, the value and what is allowed, instead of a value quietly
/// ignored, a crash once the loop runs, or a wait for a broker that a typo made unreachable.
/// </summary>
public sealed class HostileSettingsTests : IDisposable
{
    private static readonly string Shipped = File.ReadAllText(RepositoryFiles.Path("src", "StreamSeq.Worker", "appsettings.json"));

    private readonly Scratch scratch = new("streamseq-hostile-");

    public void Dispose() => scratch.Dispose();

    private static IConfigurationRoot WithCluster(Dictionary<string, string?> values)
    {
        values.TryAdd("StreamSeq:Kafka:BootstrapServers", "kafka:9092");
        return new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Shipped))).AddInMemoryCollection(values).Build();
    }

    private static string Problem(Dictionary<string, string?> values) =>
        Assert.Single(Assert.Throws<InvalidSettingsException>(() => WorkerSettings.Load(WithCluster(values))).Problems);

    [Theory]
    [InlineData("kafka:notaport", "'kafka:notaport' has the port 'notaport', which is not a number from 1 to 65535")]
    [InlineData("http://kafka:9092", "'http://kafka:9092' starts with 'http://', which is not a Kafka listener protocol")]
    [InlineData("kafka:9092;kafka2:9092", "separate brokers with ','")]
    [InlineData(",,,", "names no broker")]
    public void Load_BrokerListLibrdkafkaCannotUse_StopsNamingItInsteadOfWaitingForAnUnreachableBroker(string list, string expected)
    {
        var problem = Problem(new() { ["StreamSeq:Kafka:BootstrapServers"] = list });

        Assert.StartsWith("StreamSeq:Kafka:BootstrapServers: ", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("group.id", "other")]
    [InlineData("enable.idempotence", "false")]
    [InlineData("transactional.id", "x")]
    [InlineData("isolation.level", "read_uncommitted")]
    [InlineData("transaction.timeout.ms", "1000")]
    public void Load_ClientPropertyTheWorkerSets_StopsNamingIt(string key, string value)
    {
        Assert.StartsWith($"StreamSeq:Kafka:Client:{key}: ", Problem(new() { [$"StreamSeq:Kafka:Client:{key}"] = value }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SSL", "ssl.ca.location")]
    [InlineData("SASL_SSL", "ssl.ca.location")]
    [InlineData("SSL", "ssl.certificate.location")]
    [InlineData("ssl", "ssl.key.location")]
    public void Load_TlsFileThatIsNotThere_StopsNamingTheSettingAndThePathBeforeAnyClient(string protocol, string key)
    {
        // A TLS Secret without the key the chart mounts leaves the file out of the volume; librdkafka's own words were
        // "ssl.ca.location failed: error:05880020:x509 certificate routines::BIO lib", after the host had started.
        var missing = scratch.File("kafka-tls/ca.crt");
        var values = new Dictionary<string, string?> { ["StreamSeq:Kafka:Client:security.protocol"] = protocol, [$"StreamSeq:Kafka:Client:{key}"] = missing };
        if (protocol.StartsWith("SASL", StringComparison.Ordinal))
        {
            values["StreamSeq:Kafka:Client:sasl.mechanism"] = "SCRAM-SHA-512";
        }

        Assert.Equal($"StreamSeq:Kafka:Client:{key}: '{missing}' does not exist (security.protocol is {protocol}; when it comes from a mounted Secret, the Secret has no key of that file name).", Problem(values));
    }

    [Theory]
    [InlineData("PLAINTEXT", "/nowhere/ca.crt")]
    [InlineData("SSL", "probe")]
    [InlineData("SSL", "")]
    public void Load_TlsFileSettingThatNeedsNoFile_Starts(string protocol, string location)
    {
        var folder = scratch.File("certs");
        Directory.CreateDirectory(folder);
        foreach (var value in new[] { location, folder })
        {
            WorkerSettings.Load(WithCluster(new() { ["StreamSeq:Kafka:Client:security.protocol"] = protocol, ["StreamSeq:Kafka:Client:ssl.ca.location"] = value }));
        }
    }

    [Fact]
    public void Load_LiveStreamCapWithTheDiskStore_StopsInsteadOfIgnoringIt()
    {
        var problem = Problem(new() { ["StreamSeq:Processing:StateStore"] = "rocksdb", ["StreamSeq:Processing:StateDirectory"] = scratch.File("state"), ["StreamSeq:Processing:MaxLiveStreams"] = "100" });

        Assert.Equal("StreamSeq:Processing:MaxLiveStreams: applies to StreamSeq:Processing:StateStore=memory only, and StreamSeq:Processing:StateStore is rocksdb (the disk store bounds its memory with StreamSeq:Processing:CacheBytes); got 100.", problem);
    }

    [Theory]
    [InlineData("StateDirectory", "/var/lib/streamseq")]
    [InlineData("CacheBytes", "1048576")]
    [InlineData("CheckpointInterval", "1s")]
    public void Load_DiskStoreSettingWithTheMemoryStore_StopsInsteadOfIgnoringIt(string name, string value)
    {
        Assert.Equal(
            $"StreamSeq:Processing:{name}: applies to StreamSeq:Processing:StateStore=rocksdb only, and StreamSeq:Processing:StateStore is memory; got '{value}'.",
            Problem(new() { [$"StreamSeq:Processing:{name}"] = value }));
    }

    [Fact]
    public void Load_WebhookSettingsWithoutItsUrl_StopsInsteadOfIgnoringThem()
    {
        var problem = Problem(new() { ["StreamSeq:Alerts:Webhook:MaxBatchSize"] = "5", ["StreamSeq:Alerts:Webhook:Labels:severity"] = "page" });

        Assert.StartsWith("StreamSeq:Alerts:Webhook:Url: not set, so no webhook runs and StreamSeq:Alerts:Webhook:Labels:severity ('page'), StreamSeq:Alerts:Webhook:MaxBatchSize ('5') do nothing", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RoutesByHeaderValueWithoutARouteHeader_StopsNamingThem()
    {
        var problem = Problem(new() { ["StreamSeq:Kafka:RouteHeader"] = string.Empty });

        Assert.StartsWith("StreamSeq:Kafka:RouteHeader: empty, so no header routes streams, and StreamSeq:Routes:0:RouteKey ('temperature')", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StoreDirectoryProblems_StateDirectoryThatIsAFileOrCannotBeCreated_NamesItBeforeTheLoopStarts(bool file)
    {
        var path = scratch.File("occupied");
        File.WriteAllText(path, "not a folder");
        var directory = file ? path : Path.Combine(path, "state");
        var settings = WorkerSettings.Load(WithCluster(new() { ["StreamSeq:Processing:StateStore"] = "rocksdb", ["StreamSeq:Processing:StateDirectory"] = directory }));

        var problem = Assert.Single(settings.Processing.StoreDirectoryProblems());

        Assert.StartsWith($"StreamSeq:Processing:StateDirectory: '{directory}' ", problem, StringComparison.Ordinal);
        Assert.Contains(file ? "is a file" : "cannot be written", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void StoreDirectoryProblems_WritableStateDirectory_NoneAndNothingLeftBehind()
    {
        var directory = scratch.File("state");
        var settings = WorkerSettings.Load(WithCluster(new() { ["StreamSeq:Processing:StateStore"] = "rocksdb", ["StreamSeq:Processing:StateDirectory"] = directory }));

        Assert.Empty(settings.Processing.StoreDirectoryProblems());
        Assert.Empty(Directory.GetFileSystemEntries(directory));
        Assert.Empty(WorkerSettings.Load(WithCluster(new() { ["StreamSeq:Processing:StateStore"] = "memory" })).Processing.StoreDirectoryProblems());
    }

    [Fact]
    public void Load_WholeNumberTooLargeForTheSetting_SaysOutOfRangeNotNotAWholeNumber()
    {
        Assert.Equal(
            "StreamSeq:Processing:Lag: '99999999999' is out of range (a whole number from -2147483648 to 2147483647).",
            Problem(new() { ["StreamSeq:Processing:Lag"] = "99999999999" }));
    }

    [Fact]
    public void Load_DurationOutOfRange_BoundsAndValueInTheNotationWithUnits()
    {
        Assert.Equal(
            "StreamSeq:Kafka:CommitInterval: must be between 1ms and 10m, got 10000000d.",
            Problem(new() { ["StreamSeq:Kafka:CommitInterval"] = "10000000d" }));
    }

    [Fact]
    public void Load_ListWhereOneValueBelongs_OneProblemNamingTheSetting()
    {
        var problem = Problem(new() { ["StreamSeq:Processing:Lag:0"] = "1", ["StreamSeq:Processing:Lag:1"] = "2" });

        Assert.StartsWith("StreamSeq:Processing:Lag: takes a single value, not a list or an object", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ModelFolderWithoutSpecs_StopsInsteadOfLeavingItsModelsOut()
    {
        var folder = Directory.CreateDirectory(scratch.File("models")).FullName;

        Assert.Equal(
            $"StreamSeq:ModelFiles:0 ({folder}): the folder holds no *.json model spec files.",
            Problem(new() { ["StreamSeq:ModelFiles:0"] = folder }));
    }

    [Fact]
    public void Load_ModelFileNotUtf8_StopsNamingTheByteInsteadOfReadingU_FFFD()
    {
        var path = scratch.File("latin.json");
        File.WriteAllBytes(path, [.. Encoding.ASCII.GetBytes("""{"name":"caf"""), 0xE9, .. Encoding.ASCII.GetBytes(""" ","kind":"linear-gaussian"}""")]);

        Assert.Equal(
            $"StreamSeq:ModelFiles:0 ({path}): latin.json: is not UTF-8 text: 0xE9 at byte 13 is not UTF-8 (save the file as UTF-8).",
            Problem(new() { ["StreamSeq:ModelFiles:0"] = path }));
    }

    [Fact]
    public void Load_EmptyModelFile_OneReadableProblem()
    {
        var path = scratch.File("empty.json");
        File.WriteAllText(path, string.Empty);

        // Was "StreamSeq:ModelFiles:0 (...): empty.json:StreamSeq:ModelFiles:0 (...): empty:json: is empty ...".
        Assert.Equal(
            $"StreamSeq:ModelFiles:0 ({path}): empty.json: is empty (a model spec is a JSON object with at least name and kind).",
            Problem(new() { ["StreamSeq:ModelFiles:0"] = path }));
    }

    [Fact]
    public void Load_ModelFileThatNeverEnds_StopsAtTheSizeBoundInsteadOfRunningOutOfMemory()
    {
        var path = scratch.File("huge.json");
        using (var file = File.Create(path))
        {
            file.SetLength(Estimation.Specs.ModelSpec.MaxFileBytes + 1L);
        }

        Assert.EndsWith("huge.json: is larger than 64 MiB; a model spec file is a JSON object of a model's fields.", Problem(new() { ["StreamSeq:ModelFiles:0"] = path }), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ParametersFileThatIsAFolder_SaysSo()
    {
        var folder = Directory.CreateDirectory(scratch.File("table")).FullName;

        Assert.Equal(
            $"StreamSeq:Processing:ParametersFile: {folder}: is a folder, not a parameter table.",
            Problem(new() { ["StreamSeq:Processing:ParametersFile"] = folder }));
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url", "is not an absolute http or https URL")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otel:4317", "is not an absolute http or https URL")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier", "is not one of grpc, http/protobuf")]
    [InlineData("OTEL_METRIC_EXPORT_INTERVAL", "abc", "is not a whole number of milliseconds")]
    [InlineData("OTEL_EXPORTER_OTLP_TIMEOUT", "0", "is not a whole number of milliseconds")]
    public void Load_OtlpSettingOpenTelemetryWouldIgnore_StopsNamingTheVariable(string variable, string value, string expected)
    {
        Assert.StartsWith($"{variable}: '{value}' {expected}", Problem(new() { [variable] = value }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Logging:LogLevel:Default", "Verbose")]
    [InlineData("Logging:Console:LogLevel:StreamSeq", "loud")]
    public void Load_LogLevelTheLoggerCannotRead_StopsNamingItInsteadOfAnUnhandledException(string key, string value)
    {
        Assert.Equal($"{key}: '{value}' is not a log level (Trace, Debug, Information, Warning, Error, Critical, None).", Problem(new() { [key] = value }));
    }

    [Fact]
    public void Load_ValidOtlpSettings_Start()
    {
        var settings = WorkerSettings.Load(WithCluster(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://otel-collector:4317",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "15000",
        }));

        Assert.True(settings.Telemetry.OtlpMetrics);
    }
}
