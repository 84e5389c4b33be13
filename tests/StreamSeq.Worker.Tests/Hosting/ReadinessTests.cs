using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Transport;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>
/// Readiness means: joined the group, assigned partitions restored, broker reachable. Worker processes against the
/// embedded broker over TCP. (The window before the first assignment: <see cref="ReadinessBeforeAssignmentTests"/>.)
/// </summary>
public sealed class ReadinessTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly Scratch scratch = new("streamseq-ready-");

    public void Dispose() => scratch.Dispose();

    [Theory]
    [InlineData("classic")]
    [InlineData("consumer")]
    public void Ready_MoreMembersThanPartitions_TheMemberWithoutPartitionsIsReadyOnceJoined(string protocol)
    {
        using var bed = new KafkaTestBed("ready-surplus-" + protocol);
        bed.Cluster.CreateTopic("single.readings", 1);
        bed.Cluster.CreateTopic("single.changelog", 1);
        JsonObject Single(string instance)
        {
            var settings = Settings(bed, instance, protocol);
            settings["Kafka"]!["InputTopic"] = "single.readings";
            settings["Kafka"]!["ChangelogTopic"] = "single.changelog";
            return settings;
        }

        using var first = WorkerProcess.Start(Single("surplus-1"), scratch.File("first"));
        Assert.True(first.WaitReady(Patience), $"the first worker should be ready:\n{first.Logs()}");
        using var second = WorkerProcess.Start(Single("surplus-2"), scratch.File("second"));
        Assert.True(second.WaitReady(Patience), $"the worker without partitions should be ready once it has joined:\n{second.Logs()}");
        Assert.True(first.WaitReady(Patience), $"the first worker should be ready again after the rebalance:\n{first.Logs()}");

        var owned = new[] { first, second }.Select(w => JsonNode.Parse(w.Get("/api/status").Body)!["partitions"]!.AsArray().Count).Order().ToArray();
        Assert.Equal([0, 1], owned);
    }

    [Fact]
    public void Start_BrokerUnreachable_KeepsRetryingNotReadyAndBecomesReadyWhenTheBrokerAppears()
    {
        // The port stays reserved (bound, not listening: connections are refused) until the broker takes it 20 s on,
        // so that no other test's listener or connection can have it meanwhile.
        var reservation = Scratch.ReservePort();
        var port = ((IPEndPoint)reservation.LocalEndPoint!).Port;
        var options = new KafkaTransportOptions();
        var settings = new JsonObject
        {
            ["Kafka"] = new JsonObject
            {
                ["BootstrapServers"] = $"127.0.0.1:{port}",
                ["InstanceId"] = "patient-1",
                ["GroupProtocol"] = "consumer",
                ["CreateTopics"] = false,
            },
            ["Models"] = new JsonArray(JsonNode.Parse(TestInput.Model)),
        };
        using var worker = WorkerProcess.Start(settings, scratch.File("patient"));

        // Longer than the 15 s after which the worker used to give up (and exit with code 0).
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            Assert.False(worker.HasExited, $"the worker must keep waiting for its broker:\n{worker.Logs()}");
            var ready = worker.Get("/health/ready");
            Assert.NotEqual(200, ready.Status);
            Thread.Sleep(500);
        }

        Assert.Equal(503, worker.Get("/health/ready").Status);
        Assert.Equal(200, worker.Get("/health/live").Status);
        Assert.Contains("not reachable", worker.Logs(), StringComparison.Ordinal);

        // One warning per connection attempt, each a whole sentence; the 40 unready probes log nothing (each used to be
        // an error line, "Health check restored with status Unhealthy completed after ...").
        var logs = worker.Logs();
        Assert.DoesNotContain("Health check", logs, StringComparison.Ordinal);
        var warnings = logs.Split('\n').Where(l => l.Contains("is not reachable", StringComparison.Ordinal)).ToList();
        Assert.InRange(warnings.Count, 2, 20);
        Assert.All(warnings, w => Assert.EndsWith("The worker is not ready until Kafka answers.", w.TrimEnd(), StringComparison.Ordinal));

        reservation.Dispose();
        using var cluster = EmbeddedKafkaCluster.Start(1, port);
        cluster.SetConsumerGroupHeartbeatInterval(TimeSpan.FromMilliseconds(250));
        foreach (var topic in new[] { options.InputTopic, options.ChangelogTopic, options.FilteredTopic, options.SmoothedTopic, options.ForecastTopic, options.AnomalyTopic, options.DeadLetterTopic })
        {
            cluster.CreateTopic(topic, 2);
        }

        Assert.True(worker.WaitReady(Patience), $"the worker should be ready once the broker answers:\n{worker.Logs()}");

        // The broker going away makes the worker not ready; its return makes it ready again.
        cluster.SetBrokerDown(EmbeddedKafkaCluster.AllBrokers);
        var down = Stopwatch.StartNew();
        while (worker.Get("/health/ready").Status == 200)
        {
            Assert.True(down.Elapsed < Patience, "the worker should stop being ready while the broker is down");
            Thread.Sleep(500);
        }

        Assert.Contains("does not answer", worker.Get("/health/ready").Body, StringComparison.Ordinal);
        cluster.SetBrokerUp(EmbeddedKafkaCluster.AllBrokers);
        Assert.True(worker.WaitReady(Patience), $"the worker should be ready again once the broker is back:\n{worker.Logs()}");
    }

    internal static JsonObject Settings(KafkaTestBed bed, string instance, string protocol)
    {
        var settings = bed.WorkerSettings(instance, protocol);
        settings["Kafka"]!["SessionTimeout"] = protocol == "classic" ? "00:00:03" : "00:00:01";
        return settings;
    }
}
