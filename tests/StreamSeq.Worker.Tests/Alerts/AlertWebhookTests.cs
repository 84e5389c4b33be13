using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Testing;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Alerts;

/// <summary>
/// The worker's Alertmanager webhook against a receiver on 127.0.0.1: every anomaly of the anomaly topic is posted
/// once even though the receiver first hangs and then fails, and the Kafka outputs stay exactly once whatever the
/// webhook does.
/// </summary>
public sealed class AlertWebhookTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("streamseq-webhook-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void Run_ReceiverHangsThenFailsThenRecovers_EveryAnomalyPostedOnceAndOutputsExactlyOnce()
    {
        using var bed = new KafkaTestBed("webhook-group");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        var input = TestInput.Generate(streams: 60, perStream: 40, seed: 3);
        bed.Produce(input);

        // The first request hangs past the webhook's time-out, the second gets 503, the rest are accepted.
        using var receiver = new LocalHttpReceiver(n => n switch { 1 => null, 2 => 503, _ => 200 });
        var settings = Settings(bed, new JsonObject
        {
            ["Url"] = receiver.Url("/api/v2/alerts").AbsoluteUri,
            ["Timeout"] = "00:00:01",
            ["BatchInterval"] = "00:00:00.200",
            ["RetryBackoff"] = "00:00:00.200",
            ["MaxAttempts"] = 5,
            ["Labels"] = new JsonObject { ["severity"] = "warning" },
        });
        using var worker = WorkerProcess.Start(settings, Path.Combine(directory, "run"));
        bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(120), worker.Logs);
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));

        var anomalies = bed.ReadCommitted(bed.Options.AnomalyTopic).Values.SelectMany(v => v)
            .Select(r => JsonDocument.Parse(r).RootElement)
            .Select(r => (Stream: r.GetProperty("stream").GetString()!, Time: r.GetProperty("time").GetString()!, Rule: r.GetProperty("rule").GetString()!))
            .Order()
            .ToList();
        Assert.True(anomalies.Count >= 5, $"the input should raise anomalies, got {anomalies.Count}");

        var posted = new List<(string Stream, string Time, string Rule)>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            posted = [.. receiver.Requests.Where(r => r.Status == 200)
                .SelectMany(r => JsonDocument.Parse(r.Body).RootElement.EnumerateArray())
                .Select(a => (a.GetProperty("labels").GetProperty("stream").GetString()!, a.GetProperty("annotations").GetProperty("time").GetString()!, a.GetProperty("labels").GetProperty("rule").GetString()!))
                .Order()];
            if (posted.Count >= anomalies.Count)
            {
                break;
            }

            Thread.Sleep(200);
        }

        Assert.Equal(anomalies, posted);
        Assert.Equal([null, 503], receiver.Requests.OrderBy(r => r.Number).Take(2).Select(r => r.Status));
        var first = JsonDocument.Parse(receiver.Requests.First(r => r.Status == 200).Body).RootElement[0];
        Assert.Equal("StreamSeqAnomaly", first.GetProperty("labels").GetProperty("alertname").GetString());
        Assert.Equal("warning", first.GetProperty("labels").GetProperty("severity").GetString());
        Assert.Equal("level", first.GetProperty("labels").GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("Url", "ftp://alertmanager:9093/api/v2/alerts", "StreamSeq:Alerts:Webhook:Url: must be an absolute http or https URL")]
    [InlineData("MaxBatchSize", "0", "StreamSeq:Alerts:Webhook:MaxBatchSize:")]
    [InlineData("Labels:bad-name", "x", "StreamSeq:Alerts:Webhook:Labels:bad-name: not a valid Alertmanager label name")]
    public void Start_InvalidWebhookSetting_StopsNamingTheSetting(string key, string value, string message)
    {
        // A key given twice on the command line is itself refused, so the hostile Url replaces the working one.
        string[] webhook = key == "Url" ? [$"--StreamSeq:Alerts:Webhook:Url={value}"] : ["--StreamSeq:Alerts:Webhook:Url=http://127.0.0.1:9/api/v2/alerts", $"--StreamSeq:Alerts:Webhook:{key}={value}"];
        var result = ProcessRunner.Run(
            "dotnet",
            [WorkerBuild.Dll(), .. webhook, "--StreamSeq:Kafka:BootstrapServers=127.0.0.1:1", "--Urls=http://127.0.0.1:0"],
            TimeSpan.FromMinutes(2),
            Path.GetDirectoryName(WorkerBuild.Dll()));
        Assert.NotEqual(0, result.Code);
        Assert.Contains(message, result.Output + result.Errors, StringComparison.Ordinal);
    }

    private static JsonObject Settings(KafkaTestBed bed, JsonObject webhook)
    {
        var settings = ProcessWorkerSettings.OnTestBed(bed.Cluster.BootstrapServers, bed.Options.GroupId, "webhook-1");
        settings["Models"] = new JsonArray(JsonNode.Parse(TestInput.Model));
        settings["Alerts"] = new JsonObject { ["Webhook"] = webhook };
        return settings;
    }
}
