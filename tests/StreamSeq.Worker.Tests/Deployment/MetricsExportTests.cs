using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Testing;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// What a running worker exports, scraped from its /metrics (a worker process on the embedded broker, see
/// <see cref="ScrapedWorker"/>): names and units by OpenTelemetry's conventions as Prometheus renders them, the
/// resource, librdkafka's statistics, the same metrics over OTLP, and every metric the Grafana dashboard and the
/// chart's alerting rules query.
/// </summary>
public sealed partial class MetricsExportTests(ScrapedWorker worker) : IClassFixture<ScrapedWorker>
{
    private PrometheusText Scrape => worker.Scrape;

    [Fact]
    public void Scrape_RunningWorker_DurationsInSecondsCountersTotalledAndUnitsInTheName()
    {
        var ours = Scrape.Families.Values.Where(f => f.Name.StartsWith("streamseq_", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(ours);
        Assert.All(ours, f =>
        {
            Assert.DoesNotMatch("micro|milli|_ms$|_us$", f.Name);
            if (f.Unit is { Length: > 0 } unit)
            {
                Assert.EndsWith($"_{unit}", f.Name, StringComparison.Ordinal);
            }

            if (f.Type == "counter")
            {
                Assert.All(Scrape.Samples.Where(s => s.Name.StartsWith(f.Name, StringComparison.Ordinal) && s.Name.Length > f.Name.Length && !Scrape.Families.ContainsKey(s.Name)), s => Assert.Matches("_(total|created)$", s.Name));
            }
        });

        foreach (var duration in new[] { "streamseq_step_duration_seconds", "streamseq_kafka_commit_duration_seconds", "streamseq_kafka_restore_duration_seconds", "streamseq_kafka_client_broker_rtt_seconds" })
        {
            Assert.Equal("seconds", Scrape.Families[duration].Unit);
        }

        Assert.Equal("bytes", Scrape.Families["streamseq_kafka_client_producer_queue_size_bytes"].Unit);

        // Values in seconds, not in a scaled unit: a step takes microseconds, a commit on the embedded broker less than
        // a second, and both are far above a nanosecond.
        var step = Scrape.Value("streamseq_step_duration_seconds_sum") / Scrape.Value("streamseq_step_duration_seconds_count");
        Assert.InRange(step, 1e-8, 1e-2);
        var commit = Scrape.Value("streamseq_kafka_commit_duration_seconds_sum") / Scrape.Value("streamseq_kafka_commit_duration_seconds_count");
        Assert.InRange(commit, 1e-6, 5);

        // Counters an alert takes a rate of exist from the start, at zero.
        Assert.Equal(0, Scrape.Value("streamseq_kafka_transactions_aborted_total"));
        // Every reason the worker produces, and not stream-limit, which nothing produces (it was exported anyway).
        var reasons = Scrape.Samples.Where(s => s.Name == "streamseq_deadletters_total").Select(s => s.Labels["reason"]).ToList();
        Assert.DoesNotContain("stream-limit", reasons);
        Assert.Equal(Enum.GetValues<StreamSeq.Processing.Records.DeadLetterReason>().Length - 1, reasons.Count);
        Assert.Equal(0, Scrape.Value("streamseq_kafka_states_too_large_total"));
    }

    [Fact]
    public void Scrape_RunningWorker_ResourceNamesTheServiceItsVersionAndTheKafkaInstance()
    {
        var target = Assert.Single(Scrape.Samples, s => s.Name == "target_info").Labels;

        Assert.Equal("streamseq-worker", target["service_name"]);
        Assert.Equal(ProductVersion.Current.Version, target["service_version"]);
        Assert.Equal(ScrapedWorker.InstanceId, target["service_instance_id"]);
    }

    [Fact]
    public void Scrape_RunningWorker_LibrdkafkaStatisticsPerPartitionAndPerBroker()
    {
        var lag = Scrape.Samples.Where(s => s.Name == "streamseq_kafka_client_consumer_lag").ToList();
        Assert.Equal(["0", "1", "2", "3"], lag.Select(s => s.Labels["messaging_destination_partition_id"]).Order());
        Assert.All(lag, s => Assert.Equal("streamseq.readings", s.Labels["messaging_destination_name"]));
        Assert.All(lag, s => Assert.True(s.Value >= 0));
        Assert.Equal(4, Scrape.Samples.Count(s => s.Name == "streamseq_kafka_client_fetch_queue_count"));

        var rtt = Scrape.Samples.Where(s => s.Name == "streamseq_kafka_client_broker_rtt_seconds").ToList();
        foreach (var client in new[] { "producer", "consumer" })
        {
            var mine = rtt.Where(s => s.Labels["kafka_client_type"] == client).ToList();
            Assert.Equal(["0.5", "0.99"], mine.Select(s => s.Labels["quantile"]).Order());
            Assert.All(mine, s => Assert.InRange(s.Value, 0, 10));
            Assert.All(mine, s => Assert.Equal("127.0.0.1", s.Labels["server_address"]));
        }

        Assert.Contains(Scrape.Samples, s => s.Name == "streamseq_kafka_client_broker_requests_pending" && s.Labels["stage"] == "response");
        Assert.Single(Scrape.Samples, s => s.Name == "streamseq_kafka_client_producer_queue_count");
    }

    [Fact]
    public void Otlp_RunningWorker_PushesTheMetricsWithTheSameResource()
    {
        var bodies = string.Join("\n", worker.OtlpMetrics);

        foreach (var text in new[] { "streamseq.records.in", "streamseq.step.duration", "streamseq.kafka.client.broker.rtt", "service.name", "streamseq-worker", "service.instance.id", ScrapedWorker.InstanceId })
        {
            Assert.Contains(text, bodies, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dashboard_EveryMetricItQueries_IsExportedByTheWorker()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("helm", "streamseq", "dashboards", "streamseq.json")))!;
        var expressions = dashboard["panels"].Items().SelectMany(p => p["targets"].Items()).Select(t => t["expr"]!.GetValue<string>()).ToList();
        var queried = Queried(expressions);

        Assert.NotEmpty(queried);
        AssertExported(queried, "the dashboard");
        Assert.All(expressions, e => Assert.Equal(e.Count(c => c == '('), e.Count(c => c == ')')));

        // What the dashboard is for: throughput, latency, anomalies, dead letters, lag and live streams.
        foreach (var needed in new[] { "streamseq_records_in_total", "streamseq_step_duration_seconds_bucket", "streamseq_anomalies_total", "streamseq_deadletters_total", "streamseq_kafka_consumer_lag", "streamseq_streams_live" })
        {
            Assert.Contains(needed, queried);
        }
    }

    [SkippableFact]
    public void PrometheusRule_EveryAlertExpression_QueriesMetricsTheWorkerExportsForThisRelease()
    {
        Skip.If(Helm.Binary is null, Helm.MissingMessage);
        var (code, output, errors) = Helm.Template("--set", "metrics.prometheusRule.enabled=true", "--namespace", "sensors");
        Assert.True(code == 0, errors);
        var rule = YamlDocuments.Parse(output).Single(m => m["kind"].Text() == "PrometheusRule");
        var alerts = rule["spec"]!["groups"].Items().SelectMany(g => g["rules"].Items()).ToList();

        Assert.Equal(
            ["StreamSeqConsumerLagGrowing", "StreamSeqNoCommittedTransaction", "StreamSeqPartitionsAwaitingChangelog", "StreamSeqTransactionsAborted", "StreamSeqDeadLetterRate", "StreamSeqSlowRestore"],
            alerts.Select(a => a["alert"].Text()));
        foreach (var alert in alerts)
        {
            var expr = alert["expr"].Text()!;
            var queried = Queried([expr]);
            Assert.NotEmpty(queried);
            AssertExported(queried, alert["alert"].Text()!);
            Assert.Equal(expr.Count(c => c == '('), expr.Count(c => c == ')'));

            // Every selector is scoped to this release's series: the namespace and the job the ServiceMonitor scrapes.
            Assert.Equal(MetricName().Count(expr), Regex.Count(expr, @"streamseq_[a-z0-9_]+\{namespace=""sensors"", job=""ci-streamseq"""));
            Assert.NotNull(alert["labels"]!["severity"]);
            Assert.NotNull(alert["annotations"]!["description"]);
        }

        Assert.DoesNotContain(YamlDocuments.Parse(Helm.Template().Output), m => m["kind"].Text() == "PrometheusRule");
    }

    /// <summary>Metric names an expression selects (streamseq's own and librdkafka's; PromQL functions are not metrics).</summary>
    internal static HashSet<string> Queried(IEnumerable<string> expressions) =>
        expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

    internal static void AssertExported(IEnumerable<string> queried, string where, PrometheusText scrape)
    {
        var exported = scrape.Names.Where(n => n.StartsWith("streamseq", StringComparison.Ordinal)).Order();
        Assert.All(queried, name => Assert.True(
            scrape.Names.Contains(name) || IsNeverIncrementedHere(name),
            $"{where} queries {name}, which the worker does not export (exported: {string.Join(", ", exported)})"));
    }

    private void AssertExported(IEnumerable<string> queried, string where) => AssertExported(queried, where, Scrape);

    /// <summary>
    /// Series a healthy demo run need not create (an anomaly needs a fault the simulator injects at random, a repair a
    /// numerical problem, a discarded state a changed model): accepted when the processor declares the counter, as its
    /// Prometheus name.
    /// </summary>
    private static bool IsNeverIncrementedHere(string name) =>
        name is "streamseq_anomalies_total" or "streamseq_numerical_repairs_total" or "streamseq_streams_discarded_total"
        && ProcessorCounters.Value.Contains(name);

    private static readonly Lazy<HashSet<string>> ProcessorCounters = new(() =>
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == ProcessingMetrics.MeterName && instrument is System.Diagnostics.Metrics.Counter<long>)
                {
                    names.Add(instrument.Name.Replace('.', '_') + "_total");
                }
            },
        };
        listener.Start();
        using var metrics = new ProcessingMetrics();
        return names;
    });

    [GeneratedRegex("streamseq_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
