using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Testing;
using StreamSeq.Worker.Hosting;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// The metric names the Grafana dashboard queries are the names the worker's Prometheus endpoint really exports: the
/// worker's telemetry registration runs in a web host, every instrument records once, and /metrics is scraped.
/// </summary>
public sealed class MetricsExportTests
{
    [Fact]
    public async Task Dashboard_EveryMetricItQueries_IsExportedByTheWorker()
    {
        var exported = await ScrapeAsync();
        var dashboard = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("helm", "streamseq", "dashboards", "streamseq.json")))!;
        var expressions = dashboard["panels"].Items().SelectMany(p => p["targets"].Items()).Select(t => t["expr"]!.GetValue<string>()).ToList();
        var queried = expressions.SelectMany(e => Regex.Matches(e, "streamseq_[a-z0-9_]+").Select(m => m.Value)).ToHashSet();

        Assert.NotEmpty(queried);
        Assert.All(queried, name => Assert.True(exported.Contains(name), $"the dashboard queries {name}, which the worker does not export (exported: {string.Join(", ", exported.Where(n => n.StartsWith("streamseq", StringComparison.Ordinal)).Order())})"));
        Assert.All(expressions, e => Assert.Equal(e.Count(c => c == '('), e.Count(c => c == ')')));

        // What the dashboard is for: throughput, latency, anomalies, dead letters, lag and live streams.
        foreach (var needed in new[] { "streamseq_records_in_total", "streamseq_step_duration_microseconds_bucket", "streamseq_anomalies_total", "streamseq_deadletters_total", "streamseq_kafka_consumer_lag", "streamseq_streams_live" })
        {
            Assert.Contains(needed, queried);
        }
    }

    [Fact]
    public async Task Gauges_TrackedLoopStatus_ExportsLagLiveStreamsAndPartitions()
    {
        var exported = await ScrapeAsync();

        Assert.Contains("streamseq_kafka_consumer_lag", exported);
        Assert.Contains("streamseq_streams_live", exported);
        Assert.Contains("streamseq_kafka_partitions_assigned", exported);
    }

    /// <summary>Metric names (with _total, _bucket, ... suffixes) on the worker's scrape endpoint.</summary>
    private static async Task<HashSet<string>> ScrapeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddWorkerTelemetry(builder.Configuration);
        await using var app = builder.Build();
        app.MapPrometheusScrapingEndpoint(WorkerEndpoints.Metrics);
        await app.StartAsync();
        try
        {
            var processing = app.Services.GetRequiredService<ProcessingMetrics>();
            var transport = app.Services.GetRequiredService<KafkaTransportMetrics>();
            processing.RecordIn();
            processing.RecordOut(OutputKind.Filtered);
            processing.DeadLetter(DeadLetterReason.Unparseable);
            processing.Anomaly("m", "surprise");
            processing.Duplicate();
            processing.NumericalRepair("m", "repaired");
            processing.StreamCreated();
            processing.StateDiscarded();
            processing.StepDuration("m", 3.5);
            transport.Consumed("input");
            transport.Produced("outputs", 2);
            transport.Committed(4.0);
            transport.Aborted();
            transport.Restored(10, 20.0);
            using var tracking = transport.Track(new WorkerStatus());

            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            var text = await client.GetStringAsync(new Uri(WorkerEndpoints.Metrics, UriKind.Relative));
            return text.Split('\n')
                .Where(l => l.Length > 0 && l[0] != '#')
                .Select(l => l[..l.IndexOfAny(['{', ' '])])
                .ToHashSet(StringComparer.Ordinal);
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
