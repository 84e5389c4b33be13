using System.Net;
using System.Text.Json;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>
/// <c>/health/live</c> turns unhealthy when no transaction has committed for <c>StallTimeout</c> while input waits,
/// and <c>/api/status</c> shows the waiting input meanwhile; both recover once commits go through again.
/// </summary>
public sealed class LivenessTests
{
    [Fact]
    public void Live_NoCommitWhileInputWaits_UnhealthyAfterStallTimeoutWithCurrentLagThenHealthyAgain()
    {
        using var directory = new Scratch("streamseq-live-");
        using var bed = new KafkaTestBed("liveness");
        var input = TestInput.Generate(streams: 20, perStream: 15, seed: 8);
        var settings = WorkerProcess.Settings(bed, "live-1", commitInterval: "00:00:00.200");
        settings["Kafka"]!["TransactionTimeout"] = "00:00:02";
        settings["Kafka"]!["StallTimeout"] = "00:00:04";
        using var worker = WorkerProcess.Start(settings, directory.Directory);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var root = new Uri($"http://127.0.0.1:{worker.Port}");
        Assert.True(worker.WaitReady(TimeSpan.FromSeconds(90)), $"worker not ready:\n{worker.Logs()}");
        bed.Produce(input[..100]);
        bed.WaitForFiltered(100, TimeSpan.FromSeconds(60), worker.Logs);
        Assert.Equal(HttpStatusCode.OK, Get(http, root, "/health/live").Status);

        // Every EndTxn request fails with a coordinator error that the client retries on its own: commits hang while
        // the next 200 records wait.
        bed.Cluster.PushRequestErrors(KafkaApiKey.EndTxn, [.. Enumerable.Repeat(Confluent.Kafka.ErrorCode.ConcurrentTransactions, 5000)]);
        bed.Produce(input[100..]);
        WaitUntil(() => Get(http, root, "/health/live").Status == HttpStatusCode.ServiceUnavailable, "liveness to fail while commits hang", seconds: 60);
        var stalled = Status(http, root);
        Assert.True(stalled.GetProperty("lag").GetInt64() > 0, $"lag should show the waiting input: {stalled}");

        bed.Cluster.ClearRequestErrors(KafkaApiKey.EndTxn);
        WaitUntil(() => Get(http, root, "/health/live").Status == HttpStatusCode.OK && Status(http, root).GetProperty("lag").GetInt64() == 0, "liveness and lag to recover", seconds: 60);
        bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(60), worker.Logs);
        Assert.False(worker.HasExited, worker.Logs());
    }

    private static (HttpStatusCode Status, string Body) Get(HttpClient http, Uri root, string path)
    {
        using var response = http.GetAsync(new Uri(root, path)).GetAwaiter().GetResult();
        return (response.StatusCode, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
    }

    private static JsonElement Status(HttpClient http, Uri root) => JsonDocument.Parse(Get(http, root, "/api/status").Body).RootElement.Clone();
}
