using System.Globalization;
using System.Text.RegularExpressions;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// A disk store rebuilt from the whole changelog (a new volume, a store cleared as damaged): the states go to RocksDB
/// as they are read, so that the restore's memory does not grow with the partition's streams, which a disk store exists
/// to hold beyond the heap.
/// </summary>
public sealed partial class DiskRestoreTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Streams = 6000;

    [Fact]
    public void Restore_NewVolumeUnderThousandsOfStreams_StatesGoToTheStoreAsTheyAreReadAndOutputsStayExactlyOnce()
    {
        using var scratch = new Scratch("streamseq-disk-restore-");
        using var bed = new KafkaTestBed("disk-restore-memory");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(Streams, perStream: 3, seed: 21);
        var first = input.Take(Streams * 2).ToList();
        bed.Produce(first);
        using (Start(bed, router, "w1", Path.Combine(scratch.Directory, "first")))
        {
            bed.WaitForFiltered(first.Count, TimeSpan.FromSeconds(120));
        }

        // Another instance on an empty volume: every partition is restored from its beginning.
        var log = new HostileChangelogTests.ListLogger();
        using (var w = Start(bed, router, "w2", Path.Combine(scratch.Directory, "second"), log))
        {
            WaitUntil(() => w.Error is not null || (w.Worker.Status.Ready && w.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions), "the worker to restore every partition", seconds: 120);
            Assert.Null(w.Error);
            bed.Produce(input.Skip(first.Count).ToList());
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(120));
            Assert.Null(w.Error);
        }

        foreach (var line in log.Lines.Where(l => l.StartsWith("Restored partition", StringComparison.Ordinal)))
        {
            output.WriteLine(line);
        }

        var restores = log.Lines.Select(l => Restored().Match(l)).Where(m => m.Success).ToList();
        Assert.Equal(KafkaTestBed.InputPartitions, restores.Count);
        Assert.Equal(Streams, restores.Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
        foreach (var m in restores)
        {
            // Every state of the partition came from the changelog (some streams more than once: it is not compacted),
            // and none of them waited in memory for the end of the partition: only records after its newest marker do.
            Assert.True(long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) >= long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Value);
            Assert.True(long.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture) < 100, m.Value);
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
        Assert.Empty(bed.ReadMessages(bed.Options.DeadLetterTopic));
    }

    [Fact]
    public void Standby_NewVolumeOnAChangelogWithOneMarkerAfterThousandsOfStates_StatesGoToTheStoreAsTheyAreRead()
    {
        using var scratch = new Scratch("streamseq-standby-memory-");
        using var bed = new KafkaTestBed("standby-restore-memory");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        var input = TestInput.Generate(Streams, perStream: 1, seed: 22);
        bed.Produce(input);

        // One transaction over the whole input: each changelog partition holds its 1,500 states, then one marker, as a
        // compacted changelog does.
        using (bed.StartInProcess("w1", options =>
        {
            options.MaxBatchSize = Streams;
            options.CommitInterval = TimeSpan.FromSeconds(5);
            return new KafkaStreamWorker(options, router, new ProcessorOptions(), new ProcessingMetrics(), new KafkaTransportMetrics(), TestLog.For<KafkaStreamWorker>("w1"));
        }))
        {
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(120));
        }

        // Two instances with standby replicas on empty volumes: each tails the changelog of the partitions the other owns.
        var logs = new[] { new HostileChangelogTests.ListLogger(), new HostileChangelogTests.ListLogger() };
        var workers = new List<KafkaTestBed.WorkerHandle>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var log = logs[i];
                workers.Add(bed.StartInProcess($"s{i}", options => new KafkaStreamWorker(
                    options,
                    router,
                    new ProcessorOptions(),
                    new ProcessingMetrics(),
                    new KafkaTransportMetrics(),
                    log,
                    storeOptions: new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = Path.Combine(scratch.Directory, $"s{i}"), Standby = true })));
            }

            WaitUntil(() => workers.All(w => w.Error is not null || w.Worker.Status.Partitions.Count == 2) && logs.All(l => l.Lines.Count(x => CaughtUp().IsMatch(x)) >= 2), "each instance to own two partitions and its standby to reach the end of the other two", seconds: 120);
            Assert.All(workers, w => Assert.Null(w.Error));
        }
        finally
        {
            foreach (var w in workers)
            {
                w.Dispose();
            }
        }

        var lines = logs.SelectMany(l => l.Lines).Where(l => l.StartsWith("Standby of partition", StringComparison.Ordinal) && l.Contains("reached", StringComparison.Ordinal)).ToList();
        foreach (var line in lines)
        {
            output.WriteLine(line);
        }

        var caughtUp = lines.Select(l => CaughtUp().Match(l)).Where(m => m.Success).ToList();
        Assert.True(caughtUp.Count >= 4, string.Join("\n", lines));
        Assert.Contains(caughtUp, m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) >= Streams / KafkaTestBed.InputPartitions);
        Assert.All(caughtUp, m => Assert.True(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) < 100, m.Value));
    }

    [GeneratedRegex(@"reached the changelog's end at offset \d+ \((\d+) records read, \d+ streams held back after the newest marker; at most (\d+) held back at once\)")]
    private static partial Regex CaughtUp();

    [GeneratedRegex(@"^Restored partition (\d+) with its local disk store: (\d+) streams?, (\d+) states? read from .*at most (\d+) states? held in memory")]
    private static partial Regex Restored();

    private static KafkaTestBed.WorkerHandle Start(KafkaTestBed bed, ModelRouter router, string instance, string directory, Microsoft.Extensions.Logging.ILogger<KafkaStreamWorker>? log = null) =>
        bed.StartWithStore(router, instance, directory, log);
}
