using System.Text.Json.Nodes;
using Xunit.Abstractions;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// Exactly-once under crash: a worker process is killed with SIGKILL at random points while 100,000 records over
/// 1,000 streams flow; after restarts the committed outputs hold every expected record exactly once, byte for byte
/// equal to an uninterrupted run.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("streamseq-crash-").FullName;

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
    public void Run_WorkerProcessKilledRepeatedly_EveryOutputExactlyOnceAndBitIdentical()
    {
        using var bed = new KafkaTestBed("crash-group");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 1000, perStream: 100, seed: 7);
        var settings = new JsonObject
        {
            ["Kafka"] = new JsonObject
            {
                ["BootstrapServers"] = bed.Cluster.BootstrapServers,
                ["GroupId"] = bed.Options.GroupId,
                ["InstanceId"] = "crash-1",
                ["GroupProtocol"] = "consumer",
                ["CommitInterval"] = "00:00:01",
                ["TransactionTimeout"] = "00:00:10",
                ["CreateTopics"] = false,
                ["CommitGroupOffsets"] = false,
            },
            ["Processing"] = new JsonObject { ["Lag"] = 2, ["Horizon"] = 1 },
            ["Embedded"] = new JsonObject { ["Simulator"] = false },
            ["Models"] = new JsonArray(JsonNode.Parse(TestInput.Model)),
        };

        var producing = bed.ProduceInBackground(input, perSecond: 4000);
        var rng = new Random(2026);
        var kills = 0;
        var killedAt = new List<int>();
        WorkerProcess? worker = null;
        try
        {
            for (var run = 0; run < 5; run++)
            {
                worker = WorkerProcess.Start(settings, Path.Combine(directory, $"run{run}"));
                if (run == 4)
                {
                    break;
                }

                // Kill at a random point: during restore, between or inside transactions.
                Thread.Sleep(TimeSpan.FromMilliseconds(rng.Next(2500, 7000)));
                Assert.False(worker.HasExited, $"worker exited on its own:\n{worker.Logs()}");
                worker.Kill();
                kills++;
                killedAt.Add(bed.ReadMessages(bed.Options.FilteredTopic).Count);
            }

            producing.Join();
            bed.WaitForFiltered(input.Count, TimeSpan.FromMinutes(3), () => worker!.Logs());
        }
        finally
        {
            worker?.Dispose();
        }

        Assert.Equal(4, kills);

        // The kills must have hit a worker that was producing, or the test proves nothing.
        var raw = bed.ReadMessages(bed.Options.FilteredTopic).Count;
        output.WriteLine($"filtered records visible on the broker after each kill: {string.Join(", ", killedAt)}; at the end {raw} visible, {input.Count} committed");
        Assert.True(killedAt.Count(c => c > 0 && c < input.Count) >= 2, $"at least two kills should land mid-stream: {string.Join(", ", killedAt)}");
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }
}
