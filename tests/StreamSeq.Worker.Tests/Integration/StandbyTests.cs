using System.Text.Json.Nodes;
using StreamSeq.Worker.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// Standby replicas (<c>Standby=all</c>) in worker processes over TCP: an instance tails the changelog of the partitions
/// it does not own, so that when their owner is killed and the group hands them over, the restore reads only the tail.
/// </summary>
public sealed class StandbyTests(ITestOutputHelper output)
{
    [Fact]
    public void Run_OwnerKilledAndItsPartitionsMoveToTheStandbyInstance_RestoreReadsOnlyTheTailAndOutputsEqualStreamseqRun()
    {
        using var directory = new Scratch("streamseq-standby-");
        using var bed = new KafkaTestBed("standby");
        var input = TestInput.Generate(streams: 400, perStream: 12, seed: 17);
        var first = input.Count / 3;
        var second = 2 * input.Count / 3;
        var expected = CliRun.Outputs(bed, TestInput.Model, input, lag: 2, horizon: 1, Directory.CreateDirectory(Path.Combine(directory.Directory, "cli")).FullName);

        // A owns every partition first; B joins, takes some, and mirrors the ones A keeps. Each has a volume of its own.
        using var a = WorkerProcess.Start(StandbySettings(bed, directory, "standby-a"), Path.Combine(directory.Directory, "a"));
        bed.Produce(input[..first]);
        bed.WaitForFiltered(first, TimeSpan.FromMinutes(2), a.Logs);
        using var b = WorkerProcess.Start(StandbySettings(bed, directory, "standby-b"), Path.Combine(directory.Directory, "b"));
        ExactlyOnceTests.WaitUntil(() => Partitions(b).Count > 0, "B to own partitions");
        bed.Produce(input[first..second]);
        bed.WaitForFiltered(second, TimeSpan.FromMinutes(2), () => a.Logs() + b.Logs());

        // A is idle now: its changelog partitions end with a marker, and B's standby catches up with that end.
        var keptByA = Partitions(a);
        Assert.NotEmpty(keptByA);
        var ends = bed.HighWatermarks(bed.Options.ChangelogTopic, KafkaTestBed.InputPartitions);
        try
        {
            ExactlyOnceTests.WaitUntil(() => keptByA.All(p => Standby(b).GetValueOrDefault(p) == ends[p]), "B's standby to reach the changelog's end");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"B's standby of A's partitions [{string.Join(",", keptByA)}] is at [{string.Join(",", Standby(b))}], the changelog ends at [{string.Join(",", ends)}]\n{b.Logs()}");
        }

        Assert.True(keptByA.All(p => ends[p] > 0));
        a.Kill();

        // B takes A's partitions over (after the session timeout) and processes the rest.
        bed.Produce(input[second..]);
        bed.WaitForFiltered(input.Count, TimeSpan.FromMinutes(2), b.Logs);
        Assert.Equal(0, b.Stop(TimeSpan.FromSeconds(60)));
        var restores = DiskStoreTests.StoreRestores(b.Logs()).Where(r => keptByA.Contains(r.Partition)).ToList();

        // Without the standby B would have read each of these partitions whole (ends[p] records); it read nothing.
        output.WriteLine($"A kept [{string.Join(",", keptByA)}] with changelog ends [{string.Join(",", keptByA.Select(p => ends[p]))}]; B's takeover: {string.Join("; ", restores.Select(r => $"partition {r.Partition} from offset {r.From}, {r.Records} records read"))}");
        Assert.Equal(keptByA, restores.Select(r => r.Partition).ToList());
        Assert.All(restores, r => Assert.False(r.StartedOver));
        Assert.All(restores, r => Assert.Equal(ends[r.Partition], r.From));
        Assert.All(restores, r => Assert.Equal(0, r.Records));
        OutputAssert.ExactlyOnce(bed, expected);
    }

    private static JsonObject StandbySettings(KafkaTestBed bed, Scratch directory, string instanceId)
    {
        var settings = DiskStoreTests.DiskSettings(bed, directory, instanceId, checkpointInterval: "00:00:01");
        settings["Processing"]!["Standby"] = "all";
        settings["Processing"]!["StateDirectory"] = Path.Combine(directory.Directory, "state-" + instanceId);
        return settings;
    }

    private static JsonObject Status(WorkerProcess worker)
    {
        var (code, body) = worker.Get("/api/status");
        return code == 200 ? JsonNode.Parse(body)!.AsObject() : [];
    }

    private static List<int> Partitions(WorkerProcess worker) =>
        Status(worker)["partitions"] is JsonArray partitions ? [.. partitions.Select(p => (int)p!)] : [];

    private static Dictionary<int, long> Standby(WorkerProcess worker) =>
        Status(worker)["standby"] is JsonObject standby ? standby.ToDictionary(s => int.Parse(s.Key, System.Globalization.CultureInfo.InvariantCulture), s => (long)s.Value!) : [];
}
