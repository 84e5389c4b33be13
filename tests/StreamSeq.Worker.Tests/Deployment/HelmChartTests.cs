using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Testing;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Hosting;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// The chart rendered with helm (default values, the full example, and variants) and parsed: the worker's pod has the
/// probes, security context, resources and configuration it needs, and that configuration is one the worker accepts
/// (every key known, every option valid, every model spec loadable and routed).
/// </summary>
public sealed class HelmChartTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-helm-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string FullExample => Path.Combine(Helm.ChartPath, "ci", "full-values.yaml");

    private static List<JsonObject> Render(params string[] arguments)
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);
        var (code, output, errors) = Helm.Template(arguments);
        Assert.True(code == 0, $"helm template failed: {errors}");
        return YamlDocuments.Parse(output);
    }

    /// <summary>Whether a Kubernetes label selector (matchLabels, matchExpressions) selects these labels.</summary>
    private static bool Selects(JsonNode selector, JsonObject labels)
    {
        var matchLabels = selector["matchLabels"]?.AsObject() ?? [];
        if (matchLabels.Any(l => labels[l.Key]?.Text() != l.Value.Text()))
        {
            return false;
        }

        return selector["matchExpressions"].Items().All(e =>
        {
            var key = e["key"].Text()!;
            var values = e["values"].Items().Select(v => v.Text()).ToList();
            return e["operator"].Text() switch
            {
                "Exists" => labels.ContainsKey(key),
                "DoesNotExist" => !labels.ContainsKey(key),
                "In" => labels.ContainsKey(key) && values.Contains(labels[key].Text()),
                "NotIn" => !labels.ContainsKey(key) || !values.Contains(labels[key].Text()),
                var other => throw new InvalidOperationException($"unknown selector operator {other}"),
            };
        });
    }

    private static JsonObject Manifest(List<JsonObject> manifests, string kind, string? nameSuffix = null) =>
        manifests.Single(m => m["kind"].Text() == kind && (nameSuffix is null || m["metadata"]!["name"].Text()!.EndsWith(nameSuffix, StringComparison.Ordinal)));

    [SkippableFact]
    public void Template_DefaultValues_WorkerPodHasProbesSecurityResourcesAndAValidConfiguration()
    {
        var manifests = Render();

        var outcome = AssertWorkerPod(manifests, "StatefulSet");
        Assert.Equal("kafka:9092", outcome.Kafka.BootstrapServers);
        Assert.Equal(TimeSpan.FromMilliseconds(100), outcome.Kafka.CommitInterval);
        Assert.Equal(TimeSpan.FromHours(1), outcome.Processing.MaxTimeSkew);
        var container = Manifest(manifests, "StatefulSet")["spec"]!["template"]!["spec"]!["containers"].Items().Single();
        Assert.Equal("streamseq:0.1.0", container["image"].Text());
        Assert.Equal($"{WorkerEndpoints.ContainerPort}", container["ports"].Items().Single()["containerPort"].Text());
        Assert.Null(container["envFrom"]);
        Assert.False(outcome.Kafka.Client.ContainsKey("security.protocol"));
        Assert.Single(outcome.Router.Models);
        Assert.NotNull(Manifest(manifests, "Service", "-headless"));
        Assert.Equal("1", Manifest(manifests, "PodDisruptionBudget")["spec"]!["maxUnavailable"].Text());
        Assert.DoesNotContain(manifests, m => m["kind"].Text() is "HorizontalPodAutoscaler" or "ScaledObject" or "ServiceMonitor" or "NetworkPolicy");
    }

    [SkippableFact]
    public void Template_FullExample_ImageByDigestEnvFromExtraVolumesPortAndDurationsWithUnits()
    {
        var manifests = Render("-f", FullExample);
        var outcome = AssertWorkerPod(manifests, "StatefulSet");
        var pod = Manifest(manifests, "StatefulSet")["spec"]!["template"]!["spec"]!;
        var container = pod["containers"].Items().Single();

        Assert.Equal("registry.example.com/analytics/streamseq@sha256:4f1c2b9e8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f10", container["image"].Text());
        Assert.Equal(["streamseq-alerting", "streamseq-site"], container["envFrom"].Items().Select(e => (e["secretRef"] ?? e["configMapRef"])!["name"].Text()));
        var mount = container["volumeMounts"].Items().Single(m => m["name"].Text() == "plugins");
        Assert.Equal("/opt/streamseq/plugins", mount["mountPath"].Text());
        Assert.Equal("streamseq-plugins", pod["volumes"].Items().Single(v => v["name"].Text() == "plugins")["persistentVolumeClaim"]!["claimName"].Text());

        // The worker listens where the probes, the Service and the NetworkPolicy look.
        Assert.Equal("9000", container["ports"].Items().Single()["containerPort"].Text());

        // 250ms, 15s, 30s and 1h30m reach the worker as written and are read as durations.
        Assert.Equal(TimeSpan.FromMilliseconds(250), outcome.Kafka.CommitInterval);
        Assert.Equal(TimeSpan.FromSeconds(15), outcome.Kafka.SessionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), outcome.Kafka.TransactionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), outcome.Processing.AllowedLateness);
        Assert.Equal(TimeSpan.FromMinutes(90), outcome.Processing.MaxTimeSkew);
    }

    [SkippableFact]
    public void Template_NetworkPolicy_AdmitsTheHttpPortFromClientsAndEgressToDnsKafkaAndExtras()
    {
        var manifests = Render("-f", FullExample);
        var workload = Manifest(manifests, "StatefulSet");
        var policy = Manifest(manifests, "NetworkPolicy")["spec"]!;
        var port = workload["spec"]!["template"]!["spec"]!["containers"].Items().Single()["ports"].Items().Single()["containerPort"].Text();

        Assert.True(JsonNode.DeepEquals(workload["spec"]!["selector"]!["matchLabels"], policy["podSelector"]!["matchLabels"]));
        Assert.Equal(["Ingress", "Egress"], policy["policyTypes"].Items().Select(t => t.Text()));
        var ingress = policy["ingress"].Items().Single();
        Assert.Equal(port, ingress["ports"].Items().Single()["port"].Text());
        var peers = ingress["from"].Items().ToList();
        Assert.Equal("true", peers[0]["podSelector"]!["matchLabels"]!["ci-streamseq-client"].Text());
        Assert.Equal("monitoring", peers[1]["namespaceSelector"]!["matchLabels"]!["kubernetes.io/metadata.name"].Text());

        var egressPorts = policy["egress"].Items().Select(r => string.Join(",", r["ports"].Items().Select(p => $"{p["port"].Text()}/{p["protocol"].Text()}"))).ToList();
        Assert.Equal(["53/UDP,53/TCP", "9093/TCP", "4317/TCP"], egressPorts);

        // allowExternal and allowExternalEgress open both directions.
        var open = Manifest(Render("--set", "networkPolicy.enabled=true"), "NetworkPolicy")["spec"]!;
        Assert.Null(open["ingress"].Items().Single()["from"]);
        Assert.Equal("{}", open["egress"].Items().Single()!.ToJsonString());
    }

    [SkippableFact]
    public void Template_TestHook_AsksTheServicesReadinessEndpointWithTheImagesProbeAndIsNoWorker()
    {
        var manifests = Render("-f", FullExample);
        var test = manifests.Single(m => m["kind"].Text() == "Pod");
        var service = Manifest(manifests, "Service", "streamseq");
        var workload = Manifest(manifests, "StatefulSet");

        Assert.Equal("test", test["metadata"]!["annotations"]!["helm.sh/hook"].Text());
        var container = test["spec"]!["containers"].Items().Single();
        Assert.Equal(workload["spec"]!["template"]!["spec"]!["containers"].Items().Single()["image"].Text(), container["image"].Text());
        Assert.Equal(
            [HealthProbe.Verb, $"http://{service["metadata"]!["name"].Text()}.default.svc:{service["spec"]!["ports"].Items().Single()["port"].Text()}{WorkerEndpoints.Ready}"],
            container["args"].Items().Select(a => a.Text()));
        Assert.Equal("true", container["securityContext"]!["readOnlyRootFilesystem"].Text());

        // The workers' selector does not pick it up (the StatefulSet would adopt it, the Service route to it), and the
        // NetworkPolicy admits it.
        var labels = test["metadata"]!["labels"]!.AsObject();
        Assert.False(workload["spec"]!["selector"]!["matchLabels"]!.AsObject().All(l => labels[l.Key].Text() == l.Value.Text()));
        Assert.Equal("true", labels["ci-streamseq-client"].Text());
        Assert.DoesNotContain(Render("--set", "tests.enabled=false"), m => m["kind"].Text() == "Pod");
    }

    [SkippableFact]
    public void Template_FullExample_CredentialsFromSecretsKedaWithinPartitionsAndMonitoring()
    {
        var manifests = Render("-f", FullExample);
        var outcome = AssertWorkerPod(manifests, "StatefulSet");
        var workload = Manifest(manifests, "StatefulSet");
        var container = workload["spec"]!["template"]!["spec"]!["containers"].Items().Single();

        // SASL credentials only ever come from the Secret; TLS material is mounted from its Secret.
        foreach (var key in new[] { "sasl.username", "sasl.password" })
        {
            var variable = container["env"].Items().Single(e => e["name"].Text() == $"StreamSeq__Kafka__Client__{key}");
            Assert.Null(variable["value"]);
            Assert.Equal("streamseq-kafka-user", variable["valueFrom"]!["secretKeyRef"]!["name"].Text());
        }

        Assert.Equal("SASL_SSL", outcome.Kafka.Client["security.protocol"]);
        Assert.Equal("SCRAM-SHA-512", outcome.Kafka.Client["sasl.mechanism"]);
        var tls = container["volumeMounts"].Items().Single(v => v["name"].Text() == "kafka-tls")["mountPath"].Text()!;
        Assert.Equal($"{tls}/ca.crt", outcome.Kafka.Client["ssl.ca.location"]);
        Assert.Equal("kafka-cluster-ca", workload["spec"]!["template"]!["spec"]!["volumes"].Items().Single(v => v["name"].Text() == "kafka-tls")["secret"]!["secretName"].Text());
        Assert.DoesNotContain("password\":", Manifest(manifests, "ConfigMap", "-settings")["data"]!["appsettings.json"].Text(), StringComparison.Ordinal);

        // KEDA scales this workload on the worker's own group and input topic, never beyond the partitions.
        var scaled = Manifest(manifests, "ScaledObject")["spec"]!;
        Assert.Equal("StatefulSet", scaled["scaleTargetRef"]!["kind"].Text());
        Assert.Equal(workload["metadata"]!["name"].Text(), scaled["scaleTargetRef"]!["name"].Text());
        var trigger = scaled["triggers"].Items().Single();
        Assert.Equal("kafka", trigger["type"].Text());
        Assert.Equal(outcome.Kafka.GroupId, trigger["metadata"]!["consumerGroup"].Text());
        Assert.Equal(outcome.Kafka.InputTopic, trigger["metadata"]!["topic"].Text());
        Assert.Equal(outcome.Kafka.BootstrapServers, trigger["metadata"]!["bootstrapServers"].Text());
        Assert.Equal("false", trigger["metadata"]!["allowIdleConsumers"].Text());
        Assert.True(int.Parse(scaled["maxReplicaCount"].Text()!, System.Globalization.CultureInfo.InvariantCulture) <= outcome.Kafka.TopicPartitions);
        Assert.Null(workload["spec"]!["replicas"]);
        var auth = Manifest(manifests, "TriggerAuthentication")["spec"]!["secretTargetRef"].Items().ToDictionary(p => p["parameter"].Text()!, p => p);
        Assert.Equal("streamseq-kafka-user", auth["password"]["name"].Text());
        Assert.Equal("scram_sha512", Manifest(manifests, "Secret", "-keda-kafka")["stringData"]!["sasl"].Text());

        // Prometheus Operator scrapes the service's http port at the metrics path; Grafana gets the dashboard.
        var endpoint = Manifest(manifests, "ServiceMonitor")["spec"]!["endpoints"].Items().Single();

        // Of the Services that reach the pods (the StatefulSet's headless one has the same labels and port), the
        // ServiceMonitor selects one: two would scrape every pod twice, as two jobs, doubling every sum the Grafana
        // dashboard shows for its default job "All".
        var selector = Manifest(manifests, "ServiceMonitor")["spec"]!["selector"]!;
        var scraped = manifests.Where(m => m["kind"].Text() == "Service" && Selects(selector, m["metadata"]!["labels"]!.AsObject())).ToList();
        Assert.Equal(2, manifests.Count(m => m["kind"].Text() == "Service"));
        Assert.Equal(workload["metadata"]!["name"].Text(), Assert.Single(scraped)["metadata"]!["name"].Text());
        Assert.Equal(WorkerEndpoints.Metrics, endpoint["path"].Text());
        Assert.Equal("http", endpoint["port"].Text());
        var dashboard = Manifest(manifests, "ConfigMap", "-dashboard");
        Assert.Equal("1", dashboard["metadata"]!["labels"]!["grafana_dashboard"].Text());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse(File.ReadAllText(Path.Combine(Helm.ChartPath, "dashboards", "streamseq.json"))),
            JsonNode.Parse(dashboard["data"]!["streamseq.json"].Text()!)));

        Assert.Equal(3, outcome.Router.Models.Count);
        Assert.Equal("true", JsonNode.Parse(Manifest(manifests, "ConfigMap", "-settings")["data"]!["appsettings.json"].Text()!)!["StreamSeq"]!["Dashboard"]!["Enabled"]!.ToJsonString());
    }

    [SkippableFact]
    public void Template_DeploymentWithCpuAutoscaling_HpaTargetsTheDeploymentWithinPartitions()
    {
        var manifests = Render("--set", "workload.kind=Deployment", "--set", "autoscaling.enabled=true", "--set", "autoscaling.maxReplicas=4");

        var outcome = AssertWorkerPod(manifests, "Deployment");
        var hpa = Manifest(manifests, "HorizontalPodAutoscaler")["spec"]!;
        Assert.Equal("Deployment", hpa["scaleTargetRef"]!["kind"].Text());
        Assert.True(int.Parse(hpa["maxReplicas"].Text()!, System.Globalization.CultureInfo.InvariantCulture) <= outcome.Kafka.TopicPartitions);
        Assert.DoesNotContain(manifests, m => m["kind"].Text() == "Service" && m["metadata"]!["name"].Text()!.EndsWith("-headless", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Template_RocksDbStateStore_EachPodMountsItsOwnClaimWhereTheWorkersStateDirectoryPoints()
    {
        var manifests = Render(
            "--set", "stateStore.type=rocksdb", "--set", "stateStore.cacheBytes=134217728", "--set", "stateStore.checkpointInterval=2s",
            "--set", "stateStore.persistence.size=20Gi", "--set", "stateStore.persistence.storageClassName=fast-ssd", "--set", "stateStore.standby=all");

        var outcome = AssertWorkerPod(manifests, "StatefulSet");
        var store = outcome.Processing.ToStoreOptions();
        Assert.Equal(StreamSeq.Kafka.Stores.StateStoreKind.RocksDb, store.Kind);
        Assert.Equal(134217728, store.CacheBytes);
        Assert.Equal(TimeSpan.FromSeconds(2), store.CheckpointInterval);
        Assert.Equal("all", outcome.Processing.Standby);

        // The directory the worker writes is the mount of a claim template (one volume per pod, kept across restarts),
        // not an emptyDir of the pod.
        var statefulSet = Manifest(manifests, "StatefulSet")["spec"]!;
        var container = statefulSet["template"]!["spec"]!["containers"].Items().Single(c => c["name"].Text() == "worker");
        var mount = container["volumeMounts"].Items().Single(m => m["mountPath"].Text() == store.Directory);
        Assert.DoesNotContain(statefulSet["template"]!["spec"]!["volumes"].Items(), v => v["name"].Text() == mount["name"].Text());
        var claim = statefulSet["volumeClaimTemplates"].Items().Single(c => c["metadata"]!["name"].Text() == mount["name"].Text());
        Assert.Equal("20Gi", claim["spec"]!["resources"]!["requests"]!["storage"].Text());
        Assert.Equal("fast-ssd", claim["spec"]!["storageClassName"].Text());
        Assert.Equal(["ReadWriteOnce"], claim["spec"]!["accessModes"].Items().Select(m => m.Text()));
        Assert.Equal("Retain", statefulSet["persistentVolumeClaimRetentionPolicy"]!["whenScaled"].Text());
    }

    [SkippableFact]
    public void Template_MemoryStateStore_NoClaimAndNoDiskStoreSettings()
    {
        var manifests = Render();

        var outcome = AssertWorkerPod(manifests, "StatefulSet");
        Assert.Equal(StreamSeq.Kafka.Stores.StateStoreKind.Memory, outcome.Processing.ToStoreOptions().Kind);
        Assert.Null(Manifest(manifests, "StatefulSet")["spec"]!["volumeClaimTemplates"]);
    }

    [SkippableTheory]
    [InlineData("replicaCount=5", "replicaCount (5) exceeds kafka.inputPartitions (4)")]
    [InlineData("autoscaling.enabled=true,autoscaling.maxReplicas=8", "autoscaling.maxReplicas (8) exceeds kafka.inputPartitions (4)")]
    [InlineData("keda.enabled=true,autoscaling.enabled=true", "enable one of them")]
    [InlineData("kafka.sasl.enabled=true", "kafka.sasl.existingSecret")]
    [InlineData("kafka.bootstrapServer=kafka:9092", "bootstrapServer")]
    [InlineData("kafka.commitInterval=100 ms", "commitInterval")]
    [InlineData("processing.maxTimeSkew=1 hour", "maxTimeSkew")]
    [InlineData("stateStore.type=rocksdb,workload.kind=Deployment", "stateStore.type rocksdb needs workload.kind StatefulSet")]
    [InlineData("stateStore.type=disk", "/stateStore/type")]
    [InlineData("stateStore.standby=all", "stateStore.standby all needs stateStore.type rocksdb")]
    [InlineData("kafka.commitInterval=1h", "kafka.commitInterval (1h) must be between 1ms and 10m.")]
    [InlineData("kafka.commitInterval=10s", "kafka.commitInterval (10s) must be shorter than kafka.transactionTimeout (10s)")]
    [InlineData("kafka.transactionTimeout=10m", "kafka.stallTimeout (5m) must be longer than kafka.transactionTimeout (10m)")]
    [InlineData("kafka.commitInterval=00:00:60", "/kafka/commitInterval")]
    [InlineData("processing.allowedLateness=2d", "processing.allowedLateness (2d) must be between 0s and 1d.")]
    [InlineData("kafka.bootstrapServers=http://kafka:9092", "/kafka/bootstrapServers")]
    [InlineData("kafka.bootstrapServers=kafka:99999", "/kafka/bootstrapServers")]
    [InlineData("kafka.bootstrapServers=kafka:9092;kafka2:9092", "/kafka/bootstrapServers")]
    [InlineData("kafka.groupId= ", "/kafka/groupId")]
    [InlineData("kafka.inputPartitions=20000", "/kafka/inputPartitions")]
    [InlineData("processing.maxLiveStreams=3000000000", "/processing/maxLiveStreams")]
    [InlineData("stateStore.type=rocksdb,processing.maxLiveStreams=10", "processing.maxLiveStreams (10) applies to stateStore.type memory only")]
    [InlineData("routes[0].model=nope", "routes[0].model: there is no model named nope (models: level).")]
    [InlineData("defaultModel=nope", "defaultModel: there is no model named nope")]
    [InlineData("modelSettings.nope.lag=1", "modelSettings.nope: there is no model named nope")]
    [InlineData("kafka.routeHeader=,routes[0].model=level,routes[0].routeKey=pump", "routes[0].routeKey (pump) can never match: kafka.routeHeader is empty")]
    [InlineData("kafka.client.group\\.id=other", "kafka.client.group.id (other): the worker sets group.id from kafka.groupId")]
    [InlineData("kafka.client.enable\\.idempotence=false", "kafka.client.enable.idempotence (false): must be true or left out")]
    [InlineData("kafka.client.isolation\\.level=read_uncommitted", "kafka.client.isolation.level (read_uncommitted): must be read_committed or left out")]
    public void Template_InvalidValues_FailsNamingTheValue(string set, string expected)
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);

        var (code, _, errors) = Helm.Template("--set", set);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Template_DefaultValues_WorkerSettingsHaveTheWorkersDefaultsExceptTheDocumentedOnes()
    {
        var manifests = Render();
        var outcome = AssertWorkerPod(manifests, "StatefulSet");
        var rendered = JsonNode.Parse(Manifest(manifests, "ConfigMap", "-settings")["data"]!["appsettings.json"].Text()!)!["StreamSeq"]!;

        var differences = new List<string>();
        foreach (var (section, bound, defaults) in new (string, object, object)[] { ("Kafka", outcome.Kafka, new StreamSeq.Kafka.Transport.KafkaTransportOptions()), ("Processing", outcome.Processing, new ProcessingSettings()) })
        {
            foreach (var (key, _) in rendered[section]!.AsObject())
            {
                var property = bound.GetType().GetProperty(key)!;
                if (property.PropertyType.IsValueType || property.PropertyType == typeof(string))
                {
                    if (!Equals(property.GetValue(bound), property.GetValue(defaults)))
                    {
                        differences.Add($"{section}:{key}");
                    }
                }
            }
        }

        // The chart's README says why each of these differs from the worker's default (a cluster needs a broker list,
        // replicated topics, and the chart promises smoothed estimates and forecasts); any other is a mistake.
        Assert.Equal(["Kafka:BootstrapServers", "Kafka:ReplicationFactor", "Processing:Horizon", "Processing:Lag"], differences.Order(StringComparer.Ordinal));
        var readme = File.ReadAllText(Path.Combine(Helm.ChartPath, "README.md"));
        foreach (var value in new[] { "kafka.bootstrapServers", "kafka.replicationFactor", "processing.lag", "processing.horizon" })
        {
            Assert.Matches($"`{System.Text.RegularExpressions.Regex.Escape(value)}`[^\\n]*worker's default", readme);
        }
    }

    [Fact]
    public void Schema_Models_AreCheckedAgainstTheModelSpecSchemaAsItIs()
    {
        // A spec the worker refuses would only show in the pods' logs (exit 2 on every start); the values schema holds
        // a copy of the model-spec schema so that helm refuses it, and the copy must not drift from the file.
        var values = JsonNode.Parse(File.ReadAllText(Path.Combine(Helm.ChartPath, "values.schema.json")))!;
        var spec = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("schemas", "model-spec.schema.json")))!;
        var embedded = values["properties"]!["models"]!["items"]!["allOf"]!.AsArray();
        Assert.Contains(embedded, s => JsonNode.DeepEquals(s, spec));
    }

    [SkippableFact]
    public void Schema_NumericBounds_AreTheWorkersRanges()
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Helm.ChartPath, "values.schema.json")))!;
        var pairs = new (string Path, Type Settings, string Property)[]
        {
            ("kafka.inputPartitions", typeof(StreamSeq.Kafka.Transport.KafkaTransportOptions), "TopicPartitions"),
            ("kafka.replicationFactor", typeof(StreamSeq.Kafka.Transport.KafkaTransportOptions), "ReplicationFactor"),
            ("kafka.maxBatchSize", typeof(StreamSeq.Kafka.Transport.KafkaTransportOptions), "MaxBatchSize"),
            ("processing.lag", typeof(ProcessingSettings), "Lag"),
            ("processing.horizon", typeof(ProcessingSettings), "Horizon"),
            ("processing.maxComponents", typeof(ProcessingSettings), "MaxComponents"),
            ("processing.maxRecordBytes", typeof(ProcessingSettings), "MaxRecordBytes"),
            ("processing.maxLiveStreams", typeof(ProcessingSettings), "MaxLiveStreams"),
            ("stateStore.cacheBytes", typeof(ProcessingSettings), "CacheBytes"),
        };

        foreach (var (path, settings, name) in pairs)
        {
            var node = path.Split('.').Aggregate(schema, (n, segment) => n["properties"]![segment]!);
            var range = settings.GetProperty(name)!.GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.RangeAttribute), true).Cast<System.ComponentModel.DataAnnotations.RangeAttribute>().Single();
            Assert.True(Convert.ToDecimal(range.Minimum, System.Globalization.CultureInfo.InvariantCulture) == node["minimum"]!.GetValue<decimal>(), $"{path}: the schema's minimum differs from {name}'s");
            Assert.True(Convert.ToDecimal(range.Maximum, System.Globalization.CultureInfo.InvariantCulture) == node["maximum"]!.GetValue<decimal>(), $"{path}: the schema's maximum differs from {name}'s");
        }
    }

    /// <summary>
    /// terminationGracePeriodSeconds was any count from 0: a grace period shorter than the worker's own graceful stop
    /// (its 30 s shutdown timeout for committing the open transaction and leaving the group, and the closing of its
    /// clients and stores after it) let Kubernetes kill a pod while it committed, so the partitions' next owner waited
    /// for the transaction to time out. The schema's minimum is the worker's <see cref="WorkerShutdown.MinimumGracePeriod"/>:
    /// one second less is refused naming the value, the minimum itself renders.
    /// </summary>
    [SkippableFact]
    public void Template_GracePeriodShorterThanTheWorkersGracefulStop_FailsAndItsMinimumRenders()
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);
        var minimum = (int)WorkerShutdown.MinimumGracePeriod.TotalSeconds;
        Assert.True(WorkerShutdown.MinimumGracePeriod > WorkerShutdown.Timeout);

        var (code, _, errors) = Helm.Template("--set", $"terminationGracePeriodSeconds={minimum - 1}");
        Assert.True(code != 0 && errors.Contains("/terminationGracePeriodSeconds", StringComparison.Ordinal), $"a grace period of {minimum - 1} s should be refused: {errors}");

        var pod = Manifest(Render("--set", $"terminationGracePeriodSeconds={minimum}"), "StatefulSet")["spec"]!["template"]!["spec"]!;
        Assert.Equal($"{minimum}", pod["terminationGracePeriodSeconds"].Text());
    }

    /// <summary>
    /// The pods carried prometheus.io/* scrape annotations by default, and enabling the ServiceMonitor left them on: a
    /// Prometheus that honours both (kube-prometheus-stack with an annotation job, for one) scraped every pod twice, as two
    /// jobs, doubling every sum. By default (metrics.podAnnotations auto) the annotations are there only without the
    /// ServiceMonitor; true or false says so whatever the ServiceMonitor.
    /// </summary>
    [SkippableTheory]
    [InlineData(null, false, true)]
    [InlineData(null, true, false)]
    [InlineData("auto", false, true)]
    [InlineData("auto", true, false)]
    [InlineData("true", true, true)]
    [InlineData("true", false, true)]
    [InlineData("false", false, false)]
    [InlineData("false", true, false)]
    public void Template_ScrapeAnnotationsAndServiceMonitor_OnlyOneOfThemByDefault(string? podAnnotations, bool serviceMonitor, bool annotated)
    {
        string[] arguments = ["--set", $"metrics.serviceMonitor.enabled={(serviceMonitor ? "true" : "false")}"];
        if (podAnnotations is not null)
        {
            arguments = [.. arguments, "--set", $"metrics.podAnnotations={podAnnotations}"];
        }

        var manifests = Render(arguments);

        var annotations = Manifest(manifests, "StatefulSet")["spec"]!["template"]!["metadata"]!["annotations"]!.AsObject();
        Assert.Equal(serviceMonitor, manifests.Any(m => m["kind"].Text() == "ServiceMonitor"));
        Assert.Equal(annotated, annotations.ContainsKey("prometheus.io/scrape"));
        Assert.Equal(annotated, annotations.ContainsKey("prometheus.io/port"));
        Assert.Equal(annotated, annotations.ContainsKey("prometheus.io/path"));
        if (annotated)
        {
            Assert.Equal(WorkerEndpoints.Metrics, annotations["prometheus.io/path"].Text());
        }
    }

    [SkippableTheory]
    [InlineData("kafka.commitInterval", "CommitInterval")]
    [InlineData("kafka.transactionTimeout", "TransactionTimeout")]
    [InlineData("kafka.stallTimeout", "StallTimeout")]
    [InlineData("kafka.sessionTimeout", "SessionTimeout")]
    [InlineData("processing.allowedLateness", "AllowedLateness")]
    [InlineData("processing.maxTimeSkew", "MaxTimeSkew")]
    [InlineData("stateStore.checkpointInterval", "CheckpointInterval")]
    public void Template_DurationJustOutsideTheWorkersRange_FailsAndItsBoundRenders(string path, string name)
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);
        var settings = path.StartsWith("kafka.", StringComparison.Ordinal) ? typeof(StreamSeq.Kafka.Transport.KafkaTransportOptions) : typeof(ProcessingSettings);
        DurationConverter.Install();
        var range = settings.GetProperty(name)!.GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.RangeAttribute), true).Cast<System.ComponentModel.DataAnnotations.RangeAttribute>().Single();
        _ = range.IsValid(TimeSpan.Zero); // converts the bounds to time spans
        var (min, max) = ((TimeSpan)range.Minimum, (TimeSpan)range.Maximum);

        // Room around the bound for the values it is ordered with.
        string[] room = ["--set", "kafka.commitInterval=1ms", "--set", "kafka.transactionTimeout=15m", "--set", "kafka.stallTimeout=1d"];
        string[] others = [.. room.Chunk(2).Where(p => !p[1].StartsWith(path + "=", StringComparison.Ordinal)).SelectMany(p => p)];
        var (code, _, errors) = Helm.Template([.. others, "--set", $"{path}={DurationConverter.Format(max + TimeSpan.FromMilliseconds(1))}"]);
        Assert.True(code != 0 && errors.Contains($"{path} (", StringComparison.Ordinal) && errors.Contains("must be between", StringComparison.Ordinal), $"{path} above the worker's {DurationConverter.Format(max)}: {errors}");
        if (min >= TimeSpan.FromMilliseconds(1))
        {
            (code, _, errors) = Helm.Template([.. others, "--set", $"{path}={DurationConverter.Format(min - TimeSpan.FromMilliseconds(1))}"]);
            Assert.True(code != 0 && errors.Contains("must be between", StringComparison.Ordinal), $"{path} below the worker's {DurationConverter.Format(min)}: {errors}");
        }

        (code, _, errors) = Helm.Template([.. others, "--set", $"{path}={DurationConverter.Format(max)}"]);
        Assert.True(code == 0, $"{path} at the worker's bound {DurationConverter.Format(max)} should render: {errors}");
    }

    /// <summary>The worker container's essentials, and the settings it would start with.</summary>
    private WorkerSettingsCheck.Outcome AssertWorkerPod(List<JsonObject> manifests, string kind)
    {
        var workload = Manifest(manifests, kind);
        var pod = workload["spec"]!["template"]!["spec"]!;
        var container = pod["containers"].Items().Single(c => c["name"].Text() == "worker");

        var port = container["ports"].Items().Single();
        Assert.Equal("http", port["name"].Text());
        Assert.Equal(port["containerPort"].Text(), container["env"].Items().Single(e => e["name"].Text() == "ASPNETCORE_HTTP_PORTS")["value"].Text());
        Assert.Equal(WorkerEndpoints.Live, container["livenessProbe"]!["httpGet"]!["path"].Text());
        Assert.Equal(WorkerEndpoints.Ready, container["readinessProbe"]!["httpGet"]!["path"].Text());
        Assert.Equal(WorkerEndpoints.Live, container["startupProbe"]!["httpGet"]!["path"].Text());
        Assert.All(new[] { "livenessProbe", "readinessProbe", "startupProbe" }, p => Assert.Equal("http", container[p]!["httpGet"]!["port"].Text()));

        Assert.Equal("true", pod["securityContext"]!["runAsNonRoot"].Text());
        Assert.NotEqual("0", pod["securityContext"]!["runAsUser"].Text());
        var security = container["securityContext"]!;
        Assert.Equal("false", security["allowPrivilegeEscalation"].Text());
        Assert.Equal("true", security["readOnlyRootFilesystem"].Text());
        Assert.Contains("ALL", security["capabilities"]!["drop"].Items().Select(c => c.Text()));
        Assert.NotNull(container["resources"]!["requests"]!["cpu"]);
        Assert.NotNull(container["resources"]!["requests"]!["memory"]);
        Assert.NotNull(container["resources"]!["limits"]!["memory"]);
        Assert.True(int.Parse(pod["terminationGracePeriodSeconds"].Text()!, System.Globalization.CultureInfo.InvariantCulture) >= WorkerShutdown.MinimumGracePeriod.TotalSeconds, "the worker needs up to 30 s to commit and leave the group, and time to close its clients and stores");

        // The read-only root filesystem leaves /tmp writable through an emptyDir; settings replace the image's file.
        var mounts = container["volumeMounts"].Items().ToDictionary(m => m["mountPath"].Text()!, m => m);
        var volumes = pod["volumes"].Items().ToDictionary(v => v["name"].Text()!, v => v);
        Assert.NotNull(volumes[mounts["/tmp"]["name"].Text()!]["emptyDir"]);
        Assert.Equal("appsettings.json", mounts["/app/appsettings.json"]["subPath"].Text());

        var service = Manifest(manifests, "Service", "streamseq")["spec"]!["ports"].Items().Single();
        Assert.Equal("http", service["targetPort"].Text());

        // Environment: the instance id is the pod name; every StreamSeq variable is a known setting.
        var env = container["env"].Items().ToList();
        Assert.Equal("metadata.name", env.Single(e => e["name"].Text() == "StreamSeq__Kafka__InstanceId")["valueFrom"]!["fieldRef"]!["fieldPath"].Text());
        foreach (var name in env.Select(e => e["name"].Text()!).Where(n => n.StartsWith("StreamSeq__", StringComparison.Ordinal)))
        {
            Assert.True(SettingsCatalog.IsKnown(WorkerSettingsCheck.EnvironmentKey(name)), $"{name} is not a setting the worker reads");
        }

        // The settings the worker starts with: the ConfigMap's appsettings.json plus the environment (secrets as
        // placeholders), with the models ConfigMap written where StreamSeq:ModelFiles points.
        var settingsVolume = volumes[mounts["/app/appsettings.json"]["name"].Text()!]["configMap"]!["name"].Text();
        var settingsJson = manifests.Single(m => m["kind"].Text() == "ConfigMap" && m["metadata"]!["name"].Text() == settingsVolume)["data"]!["appsettings.json"].Text()!;
        var modelsPath = JsonNode.Parse(settingsJson)!["StreamSeq"]!["ModelFiles"]!.AsArray().Single()!.GetValue<string>();
        var modelsVolume = volumes[mounts[modelsPath]["name"].Text()!]["configMap"]!["name"].Text();
        var modelsDir = Directory.CreateDirectory(Path.Combine(dir, kind)).FullName;
        foreach (var (file, spec) in manifests.Single(m => m["kind"].Text() == "ConfigMap" && m["metadata"]!["name"].Text() == modelsVolume)["data"]!.AsObject())
        {
            File.WriteAllText(Path.Combine(modelsDir, file), spec.Text());
        }

        // Files of mounted Secrets (the Kafka CA, client certificate and key) as placeholders too: each librdkafka
        // location under a Secret's mount path points at a file of that name in a scratch folder, as the kubelet
        // would put it there.
        var secretMounts = mounts.Where(m => volumes.TryGetValue(m.Value["name"].Text()!, out var v) && v["secret"] is not null).Select(m => m.Key.TrimEnd('/') + "/").ToList();
        var secretFiles = new List<KeyValuePair<string, string?>>();
        var renderedLocations = new Dictionary<string, string>();
        foreach (var (key, value) in JsonNode.Parse(settingsJson)!["StreamSeq"]!["Kafka"]!["Client"]!.AsObject())
        {
            if (value?.Text() is { } location && secretMounts.FirstOrDefault(m => location.StartsWith(m, StringComparison.Ordinal)) is { } mount)
            {
                var placeholder = Path.Combine(dir, kind + "-secrets", location[mount.Length..]);
                Directory.CreateDirectory(Path.GetDirectoryName(placeholder)!);
                File.WriteAllText(placeholder, "from-kubernetes");
                secretFiles.Add(new($"StreamSeq__Kafka__Client__{key}", placeholder));
                renderedLocations[key] = location;
            }
        }

        var environment = env.Select(e => new KeyValuePair<string, string?>(e["name"].Text()!, e["value"].Text() ?? "from-kubernetes"))
            .Append(new KeyValuePair<string, string?>("StreamSeq__ModelFiles__0", modelsDir))
            .Concat(secretFiles);
        var outcome = WorkerSettingsCheck.Validate(WorkerSettingsCheck.Build(settingsJson, environment));
        Assert.Empty(outcome.UnknownKeys);
        foreach (var (key, location) in renderedLocations)
        {
            // The settings as rendered: the pod reads the Secret's files where the chart mounts them.
            outcome.Kafka.Client[key] = location;
        }

        Assert.Equal(Directory.GetFiles(modelsDir).Length, outcome.Router.Models.Count);
        if (workload["spec"]!["replicas"].Text() is { } replicas)
        {
            Assert.True(int.Parse(replicas, System.Globalization.CultureInfo.InvariantCulture) <= outcome.Kafka.TopicPartitions, "more workers than input partitions");
        }

        return outcome;
    }
}
