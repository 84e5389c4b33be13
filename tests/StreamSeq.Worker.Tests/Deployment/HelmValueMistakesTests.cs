using System.Text.Json.Nodes;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// The values an operator gets wrong: wrong types, zero or negative counts, names Kubernetes refuses, contradictory
/// switches, strings that would inject YAML. Each is refused by <c>helm template</c> with a message naming the value
/// (the schema's path, or the template's own words), never rendered into manifests that Kubernetes rejects or that start
/// a worker that cannot run; and the near misses that are valid still render.
/// </summary>
public sealed class HelmValueMistakesTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-helm-mistakes-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string FullExample => Path.Combine(Helm.ChartPath, "ci", "full-values.yaml");

    [SkippableTheory]
    // Wrong types: --set gives a string where a number is needed, a number where a string is.
    [InlineData("at '/replicaCount': got string, want integer", "--set", "replicaCount=two")]
    [InlineData("at '/replicaCount': got string, want integer", "--set-string", "replicaCount=2")]
    [InlineData("at '/kafka/inputPartitions': got string, want integer", "--set", "kafka.inputPartitions=four")]
    [InlineData("at '/service/port': got string, want integer", "--set", "service.port=http")]
    [InlineData("at '/kafka/bootstrapServers': got number, want string", "--set", "kafka.bootstrapServers=9092")]
    [InlineData("at '/image/tag': got number, want string", "--set", "image.tag=42")]
    [InlineData("at '/metrics/serviceMonitor/interval': got number, want string", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.serviceMonitor.interval=30")]
    [InlineData("at '/podLabels/tier': got number, want string", "--set", "podLabels.tier=1")]
    [InlineData("at '/stateStore/persistence/annotations/x': got number, want string", "--set", "stateStore.persistence.annotations.x=1")]
    [InlineData("at '/metrics/prometheusRule/deadLetterRatio'", "--set", "metrics.prometheusRule.deadLetterRatio=abc")]
    // Zero, negative and huge counts and sizes.
    [InlineData("at '/replicaCount': minimum: got 0, want 1", "--set", "replicaCount=0")]
    [InlineData("at '/replicaCount': minimum: got -1, want 1", "--set", "replicaCount=-1")]
    [InlineData("replicaCount (99999999999999) exceeds kafka.inputPartitions (4)", "--set", "replicaCount=99999999999999")]
    [InlineData("at '/containerPorts/http': minimum: got 0, want 1", "--set", "containerPorts.http=0")]
    [InlineData("at '/terminationGracePeriodSeconds': minimum: got -1, want 35", "--set", "terminationGracePeriodSeconds=-1")]
    [InlineData("at '/probes/liveness/periodSeconds': minimum: got 0, want 1", "--set", "probes.liveness.periodSeconds=0")]
    [InlineData("at '/podDisruptionBudget/maxUnavailable'", "--set", "podDisruptionBudget.maxUnavailable=0")]
    [InlineData("at '/podDisruptionBudget/maxUnavailable'", "--set", "podDisruptionBudget.maxUnavailable=-1")]
    [InlineData("at '/podDisruptionBudget/maxUnavailable'", "--set", "podDisruptionBudget.maxUnavailable=one")]
    [InlineData("at '/podDisruptionBudget/maxUnavailable'", "--set", "podDisruptionBudget.maxUnavailable=0%")]
    [InlineData("at '/stateStore/persistence/size'", "--set-string", "stateStore.persistence.size=0")]
    [InlineData("at '/stateStore/persistence/size'", "--set", "stateStore.persistence.size=10GB")]
    [InlineData("at '/resources/requests/cpu'", "--set", "resources.requests.cpu=lots")]
    [InlineData("at '/resources/limits/memory'", "--set", "resources.limits.memory=-1Gi")]
    [InlineData("at '/networkPolicy/kafkaPorts/0': minimum: got 0, want 1", "--set", "networkPolicy.kafkaPorts={0}")]
    [InlineData("metrics.prometheusRule.deadLetterRatio (2) must be more than 0 and at most 1", "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.deadLetterRatio=2")]
    [InlineData("metrics.prometheusRule.deadLetterRatio (0) must be more than 0 and at most 1", "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.deadLetterRatio=0")]
    [InlineData("metrics.prometheusRule.restoreSeconds (0) must be more than 0", "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.restoreSeconds=0")]
    // Model specs the worker would refuse at start (exit 2 in every pod, a rollout stuck on its first pod): the
    // model-spec schema, embedded in the values schema, refuses them when rendering, naming the field.
    [InlineData("at '/models/0/kind': value must be one of 'linear-gaussian'", "--set-json", "models=[{\"name\":\"level\",\"kind\":\"kalman\"}]")]
    [InlineData("at '/models/0/components/0/type': value must be one of 'local-level'", "--set-json", "models=[{\"name\":\"level\",\"kind\":\"linear-gaussian\",\"components\":[{\"type\":\"local-levl\",\"levelNoise\":0.01}],\"observationNoise\":[[0.25]]}]")]
    [InlineData("at '/models/0/components/0/levelNoise': minimum: got -0.01, want 0", "--set-json", "models=[{\"name\":\"level\",\"kind\":\"linear-gaussian\",\"components\":[{\"type\":\"local-level\",\"levelNoise\":-0.01}],\"observationNoise\":[[0.25]]}]")]
    [InlineData("at '/models/0/observationNoize': false schema", "--set-json", "models=[{\"name\":\"level\",\"kind\":\"linear-gaussian\",\"components\":[{\"type\":\"local-level\",\"levelNoise\":0.01}],\"observationNoise\":[[0.25]],\"observationNoize\":[[0.25]]}]")]
    // Unknown keys (typos).
    [InlineData("additional properties 'replica' not allowed", "--set", "replica=2")]
    [InlineData("additional properties 'resource' not allowed", "--set", "resource.limits.memory=1Gi")]
    [InlineData("additional properties 'minAvailable' not allowed", "--set", "podDisruptionBudget.minAvailable=2")]
    // Names Kubernetes refuses: uppercase, a leading dash or digit, too long, not a DNS name.
    [InlineData("at '/nameOverride': 'StreamSeq' does not match", "--set", "nameOverride=StreamSeq")]
    [InlineData("at '/nameOverride': '-x' does not match", "--set", "nameOverride=-x")]
    [InlineData("at '/fullnameOverride': 'My_App' does not match", "--set", "fullnameOverride=My_App")]
    [InlineData("at '/fullnameOverride': '1app' does not match", "--set", "fullnameOverride=1app")]
    [InlineData("at '/fullnameOverride': maxLength: got 60, want 56", "--set", "fullnameOverride=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("has 56 characters; with workload.kind StatefulSet at most 52 fit", "--set", "fullnameOverride=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-xyz")]
    [InlineData("at '/serviceAccount/name': 'My_SA' does not match", "--set", "serviceAccount.name=My_SA")]
    [InlineData("at '/priorityClassName': 'High_Priority' does not match", "--set", "priorityClassName=High_Priority")]
    [InlineData("at '/imagePullSecrets/0/name': 'My Secret' does not match", "--set", "imagePullSecrets[0].name=My Secret")]
    [InlineData("at '/stateStore/persistence/storageClassName': 'Fast_SSD' does not match", "--set", "stateStore.persistence.storageClassName=Fast_SSD")]
    [InlineData("at '/kafka/sasl/existingSecret': 'My_Secret' does not match", "--set", "kafka.sasl.enabled=true", "--set", "kafka.sasl.existingSecret=My_Secret")]
    [InlineData("at '/kafka/tls/caKey': '../../etc/passwd' does not match", "--set", "kafka.tls.enabled=true", "--set", "kafka.tls.existingSecret=ca", "--set", "kafka.tls.caKey=../../etc/passwd")]
    [InlineData("at '/kafka/topics/input': 'not' failed", "--set", "kafka.topics.input=.")]
    [InlineData("at '/models/0/name': maxLength: got 249, want 248", "--set", "models[0].kind=linear-gaussian", "--set", "defaultModel=", "--set", "models[0].name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("at '/image/repository': 'Registry.example.com/Team/StreamSeq' does not match", "--set", "image.repository=Registry.example.com/Team/StreamSeq")]
    [InlineData("at '/image/repository': 'streamseq:1.0' does not match", "--set", "image.repository=streamseq:1.0")]
    [InlineData("at '/image/tag': 'v1 beta' does not match", "--set", "image.tag=v1 beta")]
    // Label and annotation keys and values Kubernetes refuses.
    [InlineData("at '/podLabels/team': 'Analytics Team' does not match", "--set", "podLabels.team=Analytics Team")]
    [InlineData("additional properties 'Team_Name/x' not allowed", "--set", "podLabels.Team_Name/x=a")]
    [InlineData("at '/nodeSelector/disk': 'fast ssd' does not match", "--set", "nodeSelector.disk=fast ssd")]
    [InlineData("at '/service/annotations': additional properties 'bad key' not allowed", "--set", "service.annotations.bad key=x")]
    [InlineData("at '/metrics/grafanaDashboard/labels/grafana_dashboard': 'yes please' does not match", "--set", "metrics.grafanaDashboard.labels.grafana_dashboard=yes please")]
    [InlineData("podLabels.app.kubernetes.io/name: the chart sets this label itself", "--set", "podLabels.app\\.kubernetes\\.io/name=other")]
    [InlineData("metrics.serviceMonitor.labels.app.kubernetes.io/instance: the chart sets this label itself", "--set", "metrics.serviceMonitor.labels.app\\.kubernetes\\.io/instance=x")]
    // Strings that would inject keys where they are rendered.
    [InlineData("at '/kafka/sasl/existingSecret'", "--set", "kafka.sasl.enabled=true", "--set-string", "kafka.sasl.existingSecret=creds\n                  optional: true")]
    [InlineData("at '/kafka/sasl/usernameKey': 'user: x' does not match", "--set", "kafka.sasl.enabled=true", "--set", "kafka.sasl.existingSecret=s", "--set", "kafka.sasl.usernameKey=user: x")]
    [InlineData("at '/kafka/tls/existingSecret'", "--set", "kafka.tls.enabled=true", "--set-string", "kafka.tls.existingSecret=ca\n            defaultMode: 0777")]
    [InlineData("at '/serviceAccount/name'", "--set-string", "serviceAccount.name=a\nb: c")]
    [InlineData("at '/metrics/prometheusRule/severity': 'page: now' does not match", "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.severity=page: now")]
    [InlineData("at '/metrics/serviceMonitor/interval'", "--set", "metrics.serviceMonitor.enabled=true", "--set-string", "metrics.serviceMonitor.interval=30s\n  foo: bar")]
    // Durations the worker reads as TimeSpans: a unit on every part, or [d.]hh:mm:ss[.fffffff].
    [InlineData("at '/kafka/commitInterval': got number, want string", "--set", "kafka.commitInterval=100")]
    [InlineData("at '/kafka/commitInterval': '100' does not match", "--set-string", "kafka.commitInterval=100")]
    [InlineData("at '/kafka/transactionTimeout': '1m30' does not match", "--set", "kafka.transactionTimeout=1m30")]
    [InlineData("at '/kafka/commitInterval': '-5ms' does not match", "--set", "kafka.commitInterval=-5ms")]
    [InlineData("at '/kafka/sessionTimeout': '10S' does not match", "--set", "kafka.sessionTimeout=10S")]
    [InlineData("at '/kafka/stallTimeout': 'PT5M' does not match", "--set", "kafka.stallTimeout=PT5M")]
    [InlineData("at '/kafka/commitInterval': '00:00:00,100' does not match", "--set-string", "kafka.commitInterval=00:00:00\\,100")]
    [InlineData("at '/kafka/commitInterval': '' does not match", "--set", "kafka.commitInterval=")]
    // Kafka: broker lists and topics.
    [InlineData("at '/kafka/bootstrapServers'", "--set", "kafka.bootstrapServers=kafka")]
    [InlineData("at '/kafka/bootstrapServers'", "--set", "kafka.bootstrapServers=kafka:9092\\, kafka2:9092")]
    [InlineData("at '/kafka/bootstrapServers'", "--set", "kafka.bootstrapServers=kafka:9092\\,")]
    [InlineData("kafka.topics.filtered and kafka.topics.input are both streamseq.readings", "--set", "kafka.topics.filtered=streamseq.readings")]
    [InlineData("kafka.topics.changelog and kafka.topics.smoothed are both streamseq.smoothed", "--set", "kafka.topics.changelog=streamseq.smoothed")]
    // Contradictory combinations.
    [InlineData("autoscaling.minReplicas (4) exceeds autoscaling.maxReplicas (2).", "--set", "autoscaling.enabled=true", "--set", "autoscaling.minReplicas=4", "--set", "autoscaling.maxReplicas=2")]
    [InlineData("keda.minReplicaCount (4) exceeds keda.maxReplicaCount (2).", "--set", "keda.enabled=true", "--set", "keda.minReplicaCount=4", "--set", "keda.maxReplicaCount=2")]
    [InlineData("autoscaling.enabled scales on CPU utilisation, a share of resources.requests.cpu", "--set", "autoscaling.enabled=true", "--set", "resources.requests.cpu=null")]
    [InlineData("resources.requests.memory (2Gi) exceeds resources.limits.memory (1Gi).", "--set", "resources.requests.memory=2Gi")]
    [InlineData("resources.requests.cpu (1500m) exceeds resources.limits.cpu (1).", "--set", "resources.requests.cpu=1500m", "--set-string", "resources.limits.cpu=1")]
    [InlineData("resources.limits.memory (1Gi) is below what the rocksdb store needs", "--set", "stateStore.type=rocksdb", "--set", "stateStore.cacheBytes=4294967296")]
    [InlineData("at '/stateStore/persistence/accessModes/0'", "--set", "stateStore.type=rocksdb", "--set", "stateStore.persistence.accessModes={ReadOnlyMany}")]
    [InlineData("at '/stateStore/persistence': missing property 'accessModes'", "--set", "stateStore.type=rocksdb", "--set", "stateStore.persistence.accessModes=null")]
    [InlineData("kafka.tls.enabled asks for TLS but kafka.sasl.securityProtocol is SASL_PLAINTEXT", "--set", "kafka.tls.enabled=true", "--set", "kafka.sasl.enabled=true", "--set", "kafka.sasl.existingSecret=s", "--set", "kafka.sasl.securityProtocol=SASL_PLAINTEXT")]
    [InlineData("kafka.tls.existingSecret (ca) is set but the connection does not use TLS", "--set", "kafka.tls.existingSecret=ca")]
    [InlineData("kafka.client.security.protocol: the chart sets it from kafka.sasl and kafka.tls", "--set", "kafka.client.security\\.protocol=SSL", "--set", "kafka.sasl.enabled=true", "--set", "kafka.sasl.existingSecret=s")]
    [InlineData("kafka.client.sasl.password: a credential never goes in values", "--set", "kafka.client.sasl\\.password=hunter2")]
    [InlineData("kafka.bootstrapServers names kafka:9094, but networkPolicy.kafkaPorts (9092, 9093) does not admit its port", "--set", "networkPolicy.enabled=true", "--set", "networkPolicy.allowExternalEgress=false", "--set", "kafka.bootstrapServers=kafka:9094")]
    [InlineData("metrics.serviceMonitor.scrapeTimeout (30s) exceeds metrics.serviceMonitor.interval (10s)", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.serviceMonitor.interval=10s", "--set", "metrics.serviceMonitor.scrapeTimeout=30s")]
    [InlineData("podSecurityContext.runAsUser is 0 (root) while runAsNonRoot is true", "--set", "podSecurityContext.runAsUser=0")]
    [InlineData("securityContext.runAsUser is 0 (root) while runAsNonRoot is true", "--set", "securityContext.runAsUser=0")]
    [InlineData("extraVolumes[0].name: tmp is already a volume of the pod", "--set", "extraVolumes[0].name=tmp", "--set", "extraVolumes[0].emptyDir.medium=Memory")]
    [InlineData("extraVolumes[0].name: state is already a volume of the pod", "--set", "stateStore.type=rocksdb", "--set", "extraVolumes[0].name=state", "--set", "extraVolumes[0].emptyDir.medium=Memory")]
    [InlineData("extraVolumeMounts[0].mountPath: /tmp/ is already mounted", "--set", "extraVolumes[0].name=x", "--set", "extraVolumes[0].emptyDir.medium=Memory", "--set", "extraVolumeMounts[0].name=x", "--set", "extraVolumeMounts[0].mountPath=/tmp/")]
    [InlineData("extraVolumeMounts[0].name: there is no volume nope", "--set", "extraVolumeMounts[0].name=nope", "--set", "extraVolumeMounts[0].mountPath=/data")]
    [InlineData("at '/extraVolumeMounts/0/mountPath': 'data' does not match", "--set", "extraVolumes[0].name=x", "--set", "extraVolumes[0].emptyDir.medium=Memory", "--set", "extraVolumeMounts[0].name=x", "--set", "extraVolumeMounts[0].mountPath=data")]
    [InlineData("extraEnv[0].name: the chart sets StreamSeq__Kafka__InstanceId itself", "--set", "extraEnv[0].name=StreamSeq__Kafka__InstanceId", "--set", "extraEnv[0].value=worker")]
    [InlineData("extraEnv[0].name: the chart sets ASPNETCORE_HTTP_PORTS itself", "--set", "extraEnv[0].name=ASPNETCORE_HTTP_PORTS", "--set-string", "extraEnv[0].value=80")]
    [InlineData("extraEnv[0].name: the chart sets StreamSeq__Kafka__Client__sasl.password itself", "--set", "kafka.sasl.enabled=true", "--set", "kafka.sasl.existingSecret=s", "--set", "extraEnv[0].name=StreamSeq__Kafka__Client__sasl.password", "--set", "extraEnv[0].value=x")]
    public void Template_Mistake_IsRefusedNamingTheValue(string expected, params string[] arguments)
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);

        var (code, output, errors) = Helm.Template(arguments);

        Assert.True(code != 0, $"rendered instead of refusing: {output[..Math.Min(output.Length, 400)]}");
        Assert.Contains(expected, errors, StringComparison.Ordinal);
    }

    /// <summary>Release names the operator chooses are checked like the names given in values.</summary>
    [SkippableTheory]
    [InlineData("1plant", "", "the object name 1plant-streamseq (release name 1plant, or fullnameOverride/nameOverride) must start with a lowercase letter")]
    [InlineData("plant-sensors-in-the-north-building-line-four", "", "has 55 characters; with workload.kind StatefulSet at most 52 fit")]
    [InlineData("plant-sensors-in-the-north-building-line-four-b", "workload.kind=Deployment", "has 57 characters; with workload.kind Deployment at most 56 fit")]
    public void Template_ReleaseNameKubernetesWouldRefuse_IsRefused(string release, string set, string expected)
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);

        var (code, _, errors) = Helm.TemplateRelease(release, set.Length > 0 ? ["--set", set] : []);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
    }

    /// <summary>Mistakes only a values file can make: YAML numbers where a string is needed.</summary>
    [SkippableTheory]
    [InlineData("image:\n  tag: 1.0\n", "at '/image/tag': got number, want string")]
    [InlineData("stateStore:\n  persistence:\n    size: \"0\"\n", "at '/stateStore/persistence/size'")]
    [InlineData("stateStore:\n  persistence:\n    size: 10\n", "at '/stateStore/persistence/size': got number, want string")]
    [InlineData("metrics:\n  prometheusRule:\n    enabled: true\n    deadLetterRatio: 1.5\n", "metrics.prometheusRule.deadLetterRatio (1.5) must be more than 0 and at most 1")]
    [InlineData("resources:\n  requests:\n    cpu: 3\n  limits:\n    cpu: 2\n", "resources.requests.cpu (3) exceeds resources.limits.cpu (2).")]
    public void Template_ValuesFileMistake_IsRefusedNamingTheValue(string values, string expected)
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);
        var file = Path.Combine(dir, "values.yaml");
        File.WriteAllText(file, values);

        var (code, _, errors) = Helm.Template("-f", file);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
    }

    /// <summary>Near misses that are valid: they render (and the documented examples keep rendering).</summary>
    [SkippableTheory]
    [InlineData("--set", "image.repository=registry.example.com/streamseq", "--set", "kafka.bootstrapServers=my-cluster-kafka-bootstrap.kafka:9092", "--set", "kafka.inputPartitions=12")]
    [InlineData("--set", "kafka.sasl.enabled=true", "--set", "kafka.sasl.existingSecret=streamseq-kafka-user", "--set", "kafka.sasl.mechanism=SCRAM-SHA-512", "--set", "kafka.tls.enabled=true", "--set", "kafka.tls.existingSecret=kafka-cluster-ca")]
    [InlineData("--set", "kafka.sasl.enabled=true", "--set", "kafka.sasl.existingSecret=s", "--set", "kafka.tls.existingSecret=ca")]
    [InlineData("--set", "image.repository=localhost:5000/analytics/stream_seq", "--set", "image.tag=1.0.0-rc.1")]
    [InlineData("--set", "kafka.bootstrapServers=SASL_SSL://broker-0.kafka:9093\\,[::1]:9092", "--set", "networkPolicy.enabled=true", "--set", "networkPolicy.allowExternalEgress=false")]
    [InlineData("--set", "podDisruptionBudget.maxUnavailable=50%")]
    [InlineData("--set", "stateStore.type=rocksdb", "--set", "stateStore.persistence.size=0.5Gi", "--set", "stateStore.persistence.accessModes={ReadWriteOncePod}", "--set", "stateStore.persistence.storageClassName=fast-ssd")]
    [InlineData("--set", "stateStore.type=rocksdb", "--set", "stateStore.cacheBytes=1073741824", "--set", "resources.limits.memory=1.5Gi")]
    [InlineData("--set", "stateStore.type=rocksdb", "--set", "stateStore.cacheBytes=4294967296", "--set", "resources.limits=null")]
    [InlineData("--set", "resources.requests.memory=1G", "--set", "resources.limits.memory=1Gi")]
    [InlineData("--set", "autoscaling.enabled=true", "--set", "autoscaling.minReplicas=4", "--set", "autoscaling.maxReplicas=4")]
    [InlineData("--set", "keda.enabled=true", "--set", "keda.minReplicaCount=0")]
    [InlineData("--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.deadLetterRatio=1")]
    [InlineData("--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.serviceMonitor.interval=1m", "--set", "metrics.serviceMonitor.scrapeTimeout=1m")]
    [InlineData("--set", "podSecurityContext.runAsUser=0", "--set", "podSecurityContext.runAsNonRoot=false")]
    [InlineData("--set", "extraVolumes[0].name=scratch", "--set", "extraVolumes[0].emptyDir.medium=Memory", "--set", "extraVolumeMounts[0].name=scratch", "--set", "extraVolumeMounts[0].mountPath=/tmp/scratch")]
    [InlineData("--set", "extraVolumes[0].name=state", "--set", "extraVolumes[0].emptyDir.medium=Memory", "--set", "extraVolumeMounts[0].name=state", "--set", "extraVolumeMounts[0].mountPath=/var/lib/streamseq/state")]
    [InlineData("--set", "kafka.client.security\\.protocol=SSL")]
    [InlineData("--set", "podLabels.team=analytics", "--set", "podAnnotations.example\\.com/owner=Analytics Team: plant 4")]
    [InlineData("--set", "fullnameOverride=plant-sensors-streamseq-workers-in-the-north-building", "--set", "workload.kind=Deployment")]
    [InlineData("--set", "kafka.commitInterval=00:00:00.100", "--set", "processing.maxTimeSkew=1.00:00:00")]
    public void Template_ValidNearMiss_Renders(params string[] arguments)
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);

        var (code, output, errors) = Helm.Template(arguments);

        Assert.True(code == 0, $"refused: {errors}");
        Assert.NotEmpty(YamlDocuments.Parse(output));
    }

    [SkippableFact]
    public void Template_FullExampleAsDeploymentAndWithRocksDb_Render()
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);

        foreach (var extra in new[] { new[] { "--set", "workload.kind=Deployment" }, ["--set", "stateStore.type=rocksdb", "--set", "processing.maxLiveStreams=0", "--set", "resources.limits.memory=2Gi"] })
        {
            var (code, _, errors) = Helm.Template(["-f", FullExample, .. extra]);
            Assert.True(code == 0, $"{string.Join(' ', extra)}: {errors}");
        }
    }

    /// <summary>
    /// Strings with newlines, colons, quotes and template braces reach the ConfigMaps, the KEDA trigger and the pod's
    /// annotations exactly as given: no value can add a key or a document, and helm never evaluates a value.
    /// </summary>
    [SkippableFact]
    public void Template_HostileStrings_ArriveVerbatimAndInjectNothing()
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);
        var file = Path.Combine(dir, "hostile.yaml");
        File.WriteAllText(file, """
            kafka:
              groupId: "group: x\n  injected: true"
              routeHeader: "{{ .Release.Name }}"
              client:
                client.id: "a\"b\n c: d"
            models:
              - name: level
                kind: linear-gaussian
                description: "{{ fail \"boom\" }}\n---\nkind: Secret"
                components:
                  - type: local-level
                    levelNoise: 0.01
                observationNoise: [[0.25]]
            podAnnotations:
              note: "line1\nline2: {{ x }}"
            extraEnv:
              - name: X
                value: "a: b\n- c"
            keda:
              enabled: true
            """);

        var (code, output, errors) = Helm.Template("-f", file);

        Assert.True(code == 0, errors);
        var manifests = YamlDocuments.Parse(output);
        Assert.DoesNotContain(manifests, m => m["kind"].Text() == "Secret");
        var settings = JsonNode.Parse(manifests.Single(m => m["metadata"]!["name"].Text() == "ci-streamseq-settings")["data"]!["appsettings.json"].Text()!)!["StreamSeq"]!["Kafka"]!;
        Assert.Equal("group: x\n  injected: true", settings["GroupId"]!.GetValue<string>());
        Assert.Equal("{{ .Release.Name }}", settings["RouteHeader"]!.GetValue<string>());
        Assert.Equal("a\"b\n c: d", settings["Client"]!["client.id"]!.GetValue<string>());
        var model = JsonNode.Parse(manifests.Single(m => m["metadata"]!["name"].Text() == "ci-streamseq-models")["data"]!["level.json"].Text()!)!;
        Assert.Equal("{{ fail \"boom\" }}\n---\nkind: Secret", model["description"]!.GetValue<string>());
        Assert.Equal("group: x\n  injected: true", manifests.Single(m => m["kind"].Text() == "ScaledObject")["spec"]!["triggers"].Items().Single()["metadata"]!["consumerGroup"].Text());
        var pod = manifests.Single(m => m["kind"].Text() == "StatefulSet")["spec"]!["template"]!;
        Assert.Equal("line1\nline2: {{ x }}", pod["metadata"]!["annotations"]!["note"].Text());
        Assert.Equal("a: b\n- c", pod["spec"]!["containers"].Items().Single()["env"].Items().Single(e => e["name"].Text() == "X")["value"].Text());
    }

    /// <summary>Names YAML would read as booleans or null stay strings where the chart writes them.</summary>
    [SkippableFact]
    public void Template_NamesThatLookLikeYamlKeywords_AreQuoted()
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);

        var (code, output, errors) = Helm.Template(
            "--set-string", "fullnameOverride=true", "--set-string", "nameOverride=yes", "--set-string", "priorityClassName=null",
            "--set", "stateStore.type=rocksdb", "--set-string", "stateStore.persistence.storageClassName=on", "--set-string", "serviceAccount.name=off");

        Assert.True(code == 0, errors);
        Assert.Contains("  name: \"true\"\n", output, StringComparison.Ordinal);
        Assert.Contains("app.kubernetes.io/name: \"yes\"", output, StringComparison.Ordinal);
        Assert.Contains("priorityClassName: \"null\"", output, StringComparison.Ordinal);
        Assert.Contains("storageClassName: \"on\"", output, StringComparison.Ordinal);
        Assert.Contains("serviceAccountName: \"off\"", output, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?m)^\s+(name|serviceAccountName|storageClassName|priorityClassName|app\.kubernetes\.io/name|app\.kubernetes\.io/instance): (true|false|yes|no|on|off|null)$", output);
    }

    /// <summary>Every probe timing the schema accepts reaches the probe (none is silently dropped).</summary>
    [SkippableFact]
    public void Template_ProbeTimings_AllReachTheProbes()
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);
        string[] probes = ["startup", "liveness", "readiness"];
        string[] timings = ["initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"];

        var (code, output, errors) = Helm.Template([.. probes.SelectMany((p, i) => timings.SelectMany((t, j) => new[] { "--set", $"probes.{p}.{t}={(10 * (i + 1)) + j + 1}" }))]);

        Assert.True(code == 0, errors);
        var container = YamlDocuments.Parse(output).Single(m => m["kind"].Text() == "StatefulSet")["spec"]!["template"]!["spec"]!["containers"].Items().Single();
        foreach (var (probe, i) in probes.Select((p, i) => (p, i)))
        {
            foreach (var (timing, j) in timings.Select((t, j) => (t, j)))
            {
                Assert.Equal($"{(10 * (i + 1)) + j + 1}", container[$"{probe}Probe"]![timing].Text());
            }
        }
    }
}
