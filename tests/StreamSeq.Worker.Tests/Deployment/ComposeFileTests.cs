using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StreamSeq.Cli.Commands;
using StreamSeq.Processing.Simulation;
using StreamSeq.Testing;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Hosting;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// docker-compose.yml cannot be run here (no Docker engine), so it is checked against the code: every image, port,
/// topic, endpoint and setting it names must be the ones the worker, the CLI and the other services actually use.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly JsonObject Compose = YamlDocuments.ParseOne(File.ReadAllText(RepositoryFiles.Path("docker-compose.yml")));

    private static JsonNode Service(string name) => Compose["services"]![name] ?? throw new InvalidOperationException($"docker-compose.yml has no service '{name}'.");

    private static Dictionary<string, string> Environment(string service) =>
        Service(service)["environment"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value.Text()!);

    private static string[] Command(string service) => [.. Service(service)["command"].Items().Select(n => n.Text()!)];

    private static WorkerSettingsCheck.Outcome Worker() => WorkerSettingsCheck.Validate(WorkerSettingsCheck.Build(
        File.ReadAllText(RepositoryFiles.Path("src", "StreamSeq.Worker", "appsettings.json")),
        Environment("worker").Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value))));

    [Fact]
    public void Services_ThirdPartyImagesPinnedAndOursBuiltFromTheDockerfile()
    {
        foreach (var (name, service) in Compose["services"]!.AsObject())
        {
            var image = service!["image"].Text();
            Assert.False(string.IsNullOrEmpty(image), $"service {name} names no image");
            var tag = image![(image.LastIndexOf(':') + 1)..];
            Assert.True(image.Contains(':', StringComparison.Ordinal) && tag != "latest", $"service {name}: image {image} is not pinned to a version");
            if (service["build"] is { } build)
            {
                Assert.Equal(".", build["context"].Text());
                Assert.True(File.Exists(RepositoryFiles.Path(build["dockerfile"].Text()!)), $"service {name}: {build["dockerfile"].Text()} does not exist");
            }
        }

        // The worker is the Dockerfile's default target (the worker alone); the simulator is its command image.
        Assert.Equal("deploy/Dockerfile", Service("worker")["build"]!["dockerfile"].Text());
        Assert.Null(Service("worker")["build"]!["target"]);
        Assert.Equal("deploy/Dockerfile", Service("simulator")["build"]!["dockerfile"].Text());
        Assert.Equal("cli", Service("simulator")["build"]!["target"].Text());
        Assert.NotEqual(Service("worker")["image"].Text(), Service("simulator")["image"].Text());
        Assert.Equal(Service("kafka")["image"].Text(), Service("topics")["image"].Text());
        Assert.StartsWith("apache/kafka:", Service("kafka")["image"].Text(), StringComparison.Ordinal);
    }

    [Fact]
    public void Worker_EveryStreamSeqVariableIsAKnownSettingAndTheWorkerStarts()
    {
        var variables = Environment("worker").Keys.Where(k => k.StartsWith("StreamSeq__", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(variables);
        Assert.All(variables, v => Assert.True(SettingsCatalog.IsKnown(WorkerSettingsCheck.EnvironmentKey(v)), $"{v} is not a setting the worker reads"));
        Assert.Contains("StreamSeq__Dashboard__Enabled", variables);

        var worker = Worker();

        Assert.Empty(worker.UnknownKeys);
        Assert.False(worker.Kafka.CreateTopics);
        Assert.Equal("worker-0", worker.Kafka.InstanceId);
    }

    [Fact]
    public void Kafka_WorkerSimulatorAndTopicJobUseTheInternalListenerAndTheHostListenerIsPublished()
    {
        var kafka = Environment("kafka");
        var advertised = Listeners(kafka["KAFKA_ADVERTISED_LISTENERS"]);
        var bound = Listeners(kafka["KAFKA_LISTENERS"]);
        var protocols = kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].Split(',').Select(p => p.Split(':')[0]).ToHashSet();
        Assert.All(bound.Keys, l => Assert.Contains(l, protocols));
        Assert.Equal(kafka["KAFKA_CONTROLLER_LISTENER_NAMES"], bound.Keys.Single(k => !advertised.ContainsKey(k)));
        Assert.All(advertised, a => Assert.Equal(bound[a.Key].Port, a.Value.Port));

        var inter = advertised[kafka["KAFKA_INTER_BROKER_LISTENER_NAME"]];
        Assert.Equal(Service("kafka")["hostname"].Text(), inter.Host);
        var internalAddress = $"{inter.Host}:{inter.Port}";
        Assert.Equal(internalAddress, Worker().Kafka.BootstrapServers);
        Assert.Equal(internalAddress, Environment("topics")["BOOTSTRAP_SERVERS"]);
        Assert.Equal(internalAddress, Option(Command("simulator"), "--bootstrap-servers"));
        Assert.Contains($"{bound[kafka["KAFKA_CONTROLLER_LISTENER_NAMES"]].Port}", kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"], StringComparison.Ordinal);

        var host = advertised.Values.Single(a => a.Host == "localhost");
        Assert.Contains($"127.0.0.1:{host.Port}:{host.Port}", Service("kafka")["ports"].Items().Select(p => p.Text()));
    }

    [Fact]
    public void Ports_PublishedOnTheHostsLoopbackOnly()
    {
        var published = Compose["services"]!.AsObject().SelectMany(s => s.Value!["ports"].Items()).Select(p => p.Text()!).ToList();

        Assert.NotEmpty(published);
        Assert.All(published, p => Assert.StartsWith("127.0.0.1:", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Topics_JobCreatesTheWorkersTopicsAndAChangelogCompactedAndPartitionedLikeTheInput()
    {
        var kafka = Worker().Kafka;
        var job = Environment("topics");
        Assert.Equal(kafka.InputTopic, job["INPUT_TOPIC"]);
        Assert.Equal(new[] { kafka.FilteredTopic, kafka.SmoothedTopic, kafka.ForecastTopic, kafka.AnomalyTopic }.Order(), job["OUTPUT_TOPICS"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.Equal(kafka.DeadLetterTopic, job["DEAD_LETTER_TOPIC"]);
        Assert.Equal(kafka.ChangelogTopic, job["CHANGELOG_TOPIC"]);

        var mount = Service("topics")["volumes"].Items().Single().Text()!.Split(':');
        Assert.Equal(mount[1], Service("topics")["entrypoint"].Items().Last().Text());
        var script = File.ReadAllText(RepositoryFiles.Path(mount[0]));

        // Every topic is created through one function with the same partition count, so the changelog has exactly
        // as many partitions as the input; the changelog is compacted.
        Assert.Single(Regex.Matches(script, "--partitions"));
        Assert.Contains("--partitions \"$TOPIC_PARTITIONS\"", script, StringComparison.Ordinal);
        Assert.Matches(new Regex("create \"\\$CHANGELOG_TOPIC\"[^\\n]*\\\\\\n\\s*--config cleanup.policy=compact"), script);
        foreach (var variable in new[] { "INPUT_TOPIC", "DEAD_LETTER_TOPIC", "CHANGELOG_TOPIC", "BOOTSTRAP_SERVERS", "TOPIC_PARTITIONS", "OUTPUT_TOPICS" })
        {
            Assert.Contains($"${variable}", script, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Simulator_RunsTheCliSimulateCommandIntoTheWorkersInputWithSensorTypesTheWorkerRoutes()
    {
        var entrypoint = Service("simulator")["entrypoint"].Items().Select(n => n.Text()).ToArray();
        Assert.Equal($"/app/{typeof(SimulateCommand).Assembly.GetName().Name}.dll", entrypoint[^1]);
        var command = Command("simulator");
        var parse = new RootCommand { SimulateCommand.Create(TextWriter.Null, TextWriter.Null) }.Parse(command);
        Assert.Empty(parse.Errors);

        var worker = Worker();
        Assert.Equal(worker.Kafka.InputTopic, Option(command, "--topic"));
        Assert.Equal("0", Option(command, "--rounds"));
        Assert.Equal("sensor-type", worker.Kafka.RouteHeader);
        foreach (var kind in Enum.GetValues<SensorKind>())
        {
            Assert.NotNull(worker.Router.Route("any-stream", kind.ToString().ToLowerInvariant()));
        }
    }

    [Fact]
    public void Worker_PublishesTheContainerPortAndPrometheusScrapesItsMetricsEndpoint()
    {
        Assert.Contains($"127.0.0.1:{WorkerEndpoints.ContainerPort}:{WorkerEndpoints.ContainerPort}", Service("worker")["ports"].Items().Select(p => p.Text()));
        var mount = Service("prometheus")["volumes"].Items().Single().Text()!.Split(':');
        Assert.Contains(Service("prometheus")["command"].Items().Select(c => c.Text()), c => c == $"--config.file={mount[1]}");
        var prometheus = YamlDocuments.ParseOne(File.ReadAllText(RepositoryFiles.Path(mount[0])));
        var job = prometheus["scrape_configs"].Items().Single();
        Assert.Equal(WorkerEndpoints.Metrics, job["metrics_path"].Text());
        Assert.Equal($"worker:{WorkerEndpoints.ContainerPort}", job["static_configs"].Items().Single()["targets"].Items().Single().Text());
    }

    [Fact]
    public void Grafana_ProvisionsPrometheusAndTheDashboardFromFilesThatExist()
    {
        var volumes = Service("grafana")["volumes"].Items().Select(v => v.Text()!.Split(':')).ToDictionary(v => v[1], v => v[0]);
        var provisioning = RepositoryFiles.Path(volumes["/etc/grafana/provisioning"]);
        var datasource = YamlDocuments.ParseOne(File.ReadAllText(Path.Combine(provisioning, "datasources", "prometheus.yml")))["datasources"].Items().Single();
        Assert.Equal("prometheus", datasource["type"].Text());
        Assert.Equal("http://prometheus:9090", datasource["url"].Text());
        Assert.Contains("127.0.0.1:9090:9090", Service("prometheus")["ports"].Items().Select(p => p.Text()));

        var provider = YamlDocuments.ParseOne(File.ReadAllText(Path.Combine(provisioning, "dashboards", "streamseq.yml")))["providers"].Items().Single();
        var dashboards = provider["options"]!["path"].Text()!;
        Assert.True(volumes.ContainsKey(dashboards), $"the dashboard folder {dashboards} is not mounted");
        var home = Environment("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"];
        Assert.StartsWith(dashboards + "/", home, StringComparison.Ordinal);
        Assert.True(File.Exists(RepositoryFiles.Path(volumes[dashboards], Path.GetFileName(home))));
    }

    private static Dictionary<string, (string Host, int Port)> Listeners(string text) =>
        text.Split(',').Select(l => l.Split("://")).ToDictionary(
            p => p[0],
            p => (p[1][..p[1].LastIndexOf(':')], int.Parse(p[1][(p[1].LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture)));

    private static string Option(string[] command, string name) => command[Array.IndexOf(command, name) + 1];
}
