using System.Diagnostics;
using System.Net.Http.Headers;
using StreamSeq.Testing;
using StreamSeq.Worker.Tests.Browser;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// One worker as users run it (its own process, the embedded broker and simulator), with librdkafka's statistics every
/// second and metrics pushed over OTLP/HTTP to a local receiver as well, scraped once it has processed readings and
/// committed transactions: the metric names, units and resource the deployment files are checked against.
/// </summary>
public sealed class ScrapedWorker : IAsyncLifetime
{
    /// <summary>The instance id the worker is given (service.instance.id).</summary>
    public const string InstanceId = "metrics-0";

    /// <summary>Sample names that must be on the scrape before it counts as complete.</summary>
    public static readonly string[] Expected =
    [
        "streamseq_records_in_total", "streamseq_records_out_total", "streamseq_deadletters_total", "streamseq_duplicates_total",
        "streamseq_streams_created_total", "streamseq_step_duration_seconds_bucket",
        "streamseq_kafka_consumed_total", "streamseq_kafka_produced_total",
        "streamseq_kafka_transactions_committed_total", "streamseq_kafka_transactions_aborted_total",
        "streamseq_streams_restored_total", "streamseq_kafka_commit_duration_seconds_bucket", "streamseq_kafka_restore_duration_seconds_bucket",
        "streamseq_kafka_consumer_lag", "streamseq_streams_live", "streamseq_kafka_partitions_assigned",
        "streamseq_kafka_client_consumer_lag", "streamseq_kafka_client_fetch_queue_count",
        "streamseq_kafka_client_producer_queue_count", "streamseq_kafka_client_producer_queue_size_bytes",
        "streamseq_kafka_client_broker_rtt_seconds", "streamseq_kafka_client_broker_requests_pending",
    ];

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    private readonly LocalHttpReceiver otlp = new();
    private EmbeddedWorkerProcess? worker;

    /// <summary>The scrape, in the OpenMetrics text format (with # TYPE, # UNIT and # HELP lines).</summary>
    public PrometheusText Scrape { get; private set; } = PrometheusText.Parse(string.Empty);

    /// <summary>Bodies the worker posted to the OTLP receiver's /v1/metrics (protobuf; names and values appear as text).</summary>
    public IReadOnlyList<string> OtlpMetrics => [.. otlp.Requests.Where(r => r.Method == "POST" && r.Path == "/v1/metrics").Select(r => r.Body)];

    /// <summary>Worker output, for failure messages.</summary>
    public string Output => worker?.Output ?? string.Empty;

    public async Task InitializeAsync()
    {
        worker = await EmbeddedWorkerProcess.StartAsync(
            new Dictionary<string, string>
            {
                ["StreamSeq:Kafka:InstanceId"] = InstanceId,
                ["StreamSeq:Kafka:Client:statistics.interval.ms"] = "1000",
                ["StreamSeq:Embedded:Streams"] = "8",
                ["StreamSeq:Embedded:Pace"] = "50ms",
            },
            Bound,
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{otlp.Port}",
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
                ["OTEL_TRACES_EXPORTER"] = "none",
            });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/openmetrics-text; version=1.0.0"));
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Bound)
        {
            try
            {
                Scrape = PrometheusText.Parse(await http.GetStringAsync(new Uri($"{worker.Url}/metrics")));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (Expected.All(Scrape.Names.Contains) && Scrape.Value("streamseq_kafka_transactions_committed_total") > 0 && OtlpMetrics.Any(PushedAfterWork) && StatisticsCoverEveryPartition(Scrape) && RoundTripsOfBothClients(Scrape))
            {
                return;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"the worker's scrape lacked {string.Join(", ", Expected.Where(n => !Scrape.Names.Contains(n)))} (OTLP posts: {OtlpMetrics.Count}) after {Bound.TotalSeconds} s:\n{Output}");
    }

    // librdkafka's first statistics after the assignment can list fewer partitions than the consumer was given: the
    // scrape counts once every input partition has its lag and fetch queue (the test then checks them one by one).
    private static bool StatisticsCoverEveryPartition(PrometheusText scrape) =>
        scrape.Samples.Count(s => s.Name == "streamseq_kafka_client_consumer_lag") >= 4
        && scrape.Samples.Count(s => s.Name == "streamseq_kafka_client_fetch_queue_count") >= 4;

    // librdkafka's statistics window of a client that made no broker request in it has no round-trip figures, and the
    // worker then exports none for that client (rather than zeros): the scrape counts once both the producer and the
    // consumer have them. A full CI run once scraped a window with only one client's.
    private static bool RoundTripsOfBothClients(PrometheusText scrape) =>
        new[] { "producer", "consumer" }.All(client => scrape.Samples.Any(s => s.Name == "streamseq_kafka_client_broker_rtt_seconds" && s.Labels.TryGetValue("kafka_client_type", out var type) && type == client));

    // A push is taken once it carries a step and librdkafka's statistics: an earlier one (the first can come before
    // any record was stepped) legitimately lacks them.
    private static bool PushedAfterWork(string body) =>
        body.Contains("streamseq.step.duration", StringComparison.Ordinal) && body.Contains("streamseq.kafka.client.broker.rtt", StringComparison.Ordinal);

    public async Task DisposeAsync()
    {
        if (worker is not null)
        {
            await worker.DisposeAsync();
        }

        otlp.Dispose();
    }
}
