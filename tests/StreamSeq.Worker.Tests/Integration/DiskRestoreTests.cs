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

    [GeneratedRegex(@"^Restored partition (\d+) with its local disk store: (\d+) streams, (\d+) states read from .*at most (\d+) states held in memory")]
    private static partial Regex Restored();

    private static KafkaTestBed.WorkerHandle Start(KafkaTestBed bed, ModelRouter router, string instance, string directory, Microsoft.Extensions.Logging.ILogger<KafkaStreamWorker>? log = null) =>
        bed.StartInProcess(instance, options => new KafkaStreamWorker(
            options,
            router,
            new ProcessorOptions(),
            new ProcessingMetrics(),
            new KafkaTransportMetrics(),
            log ?? TestLog.For<KafkaStreamWorker>(instance),
            storeOptions: new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = directory }));
}
