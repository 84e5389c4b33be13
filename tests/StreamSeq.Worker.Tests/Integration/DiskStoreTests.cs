using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;
using Xunit.Abstractions;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// The disk store (<c>StateStore=rocksdb</c>) in worker processes over TCP: a restart on the same volume reads only the
/// changelog after the local checkpoint, and a SIGKILL between a commit and the store's write, or between a store write
/// and its checkpoint, still gives every output exactly once and byte for byte what an uninterrupted run gives.
/// </summary>
public sealed partial class DiskStoreTests(ITestOutputHelper output)
{
    /// <summary>Streams enough that their states exceed the 1 MiB cache: most records read their stream from disk.</summary>
    private const int Streams = 3000;

    [Fact]
    public void Run_StoppedAndRestartedOnTheSameVolume_ReadsNoChangelogRecordBeforeTheCheckpointAndOutputsEqualAnUninterruptedRun()
    {
        using var directory = new Scratch("streamseq-disk-");
        using var bed = new KafkaTestBed("disk-restart");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: Streams, perStream: 10, seed: 11);
        var half = input.Count / 2;
        var settings = DiskSettings(bed, directory, "disk-1", checkpointInterval: "00:00:30");

        bed.Produce(input[..half]);
        RunUntilCommitted(bed, settings, Path.Combine(directory.Directory, "run0"), half);
        var changelogEnd = bed.HighWatermarkSum(bed.Options.ChangelogTopic, KafkaTestBed.InputPartitions);
        bed.Produce(input[half..]);
        var restores = StoreRestores(RunUntilCommitted(bed, settings, Path.Combine(directory.Directory, "run1"), input.Count));

        // A clean stop checkpoints at the changelog's end: the restart reads no record before it, and nothing was
        // written after it. Without the checkpoint it would have read all of them (changelogEnd records).
        output.WriteLine($"changelog records at the stop: {changelogEnd}; restart: {Describe(restores)}");
        Assert.Equal(KafkaTestBed.InputPartitions, restores.Count);
        Assert.All(restores, r => Assert.False(r.StartedOver));
        Assert.Equal(changelogEnd, restores.Sum(r => r.From));
        Assert.Equal(0, restores.Sum(r => r.Records));
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    // Each kill lands about a third of the way through the input (10,000 to 15,000 of 36,000 filtered records
    // committed before it, measured): before a store write at the 12th committed transaction, or after the 20th store
    // write that carried no checkpoint. At the 40th committed transaction the first kill came after 70 to 90% of the
    // input, and once, with the machine busy, after all of it.
    [Theory]
    [InlineData("kill-before-store-write:12", "00:00:00.100")]
    [InlineData("kill-after-store-write:20", "00:01:00")]
    public void Run_KilledBetweenCommitAndStoreWriteOrBeforeTheCheckpoint_RestartFromTheCheckpointGivesEveryOutputExactlyOnce(string fault, string checkpointInterval)
    {
        using var directory = new Scratch("streamseq-disk-kill-");
        using var bed = new KafkaTestBed("disk-kill");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: Streams, perStream: 12, seed: 13);
        var settings = DiskSettings(bed, directory, "disk-kill-1", checkpointInterval);

        // The input arrives while the worker runs, so that it commits many small transactions.
        var producing = bed.ProduceInBackground(input, perSecond: 6000);
        using (var faulty = WorkerProcess.Start(settings, Path.Combine(directory.Directory, "run0"), environment: new Dictionary<string, string> { ["STREAMSEQ_TEST_STORE_FAULT"] = fault }))
        {
            Assert.True(faulty.WaitForExit(TimeSpan.FromMinutes(3)), $"the worker did not kill itself at {fault}:\n{faulty.Logs()}");
            Assert.Equal(137, faulty.ExitCode);
        }

        var committedBeforeKill = bed.CountCommitted(bed.Options.FilteredTopic);
        producing.Join();
        var restores = StoreRestores(RunUntilCommitted(bed, settings, Path.Combine(directory.Directory, "run1"), input.Count));

        // Every partition resumed from its local store's checkpoint (not from the beginning), and what the store missed
        // (the killed transaction's states, or the commits after the checkpoint) came from the changelog's tail.
        output.WriteLine($"{fault}: {committedBeforeKill} filtered records committed before the kill; restart: {Describe(restores)}");
        Assert.True(committedBeforeKill > 0 && committedBeforeKill < input.Count, $"the kill should land mid-stream: {committedBeforeKill} of {input.Count}");
        Assert.Contains(restores, r => r.From > 0 && r.Records > 0);
        Assert.All(restores, r => Assert.False(r.StartedOver));
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    // The restore writes the changelog's states to the store in batches of 4,096 as it reads them: killed after the
    // first batch, the store holds part of them, with the checkpoint it had (or, read from the beginning, none: the
    // store was cleared, checkpoint included, before the first batch). The next start must give the same outputs.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Restore_KilledAfterItsFirstBatchReachedTheStore_NextStartRestoresAgainAndOutputsStayExactlyOnce(bool newVolume)
    {
        using var directory = new Scratch("streamseq-disk-restore-kill-");
        using var bed = new KafkaTestBed($"disk-restore-kill-{newVolume}");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        const int streams = 3000;
        var input = TestInput.Generate(streams: streams, perStream: 16, seed: 17);
        var (a, b) = (streams * 6, streams * 14);
        var settings = DiskSettings(bed, directory, "disk-1", checkpointInterval: "00:00:30");

        // This instance's store holds the first part and its checkpoint; another instance writes the second part's states
        // to the changelog: a restore of this store from its checkpoint reads them, about 6,000 per partition. The second
        // part arrives while that instance runs, so that its many small transactions write a state per record.
        bed.Produce(input[..a]);
        RunUntilCommitted(bed, settings, Path.Combine(directory.Directory, "run0"), a);
        var producing = bed.ProduceInBackground(input[a..b], perSecond: 6000);
        RunUntilCommitted(bed, DiskSettings(bed, directory, "disk-other", checkpointInterval: "00:00:30"), Path.Combine(directory.Directory, "other"), b);
        producing.Join();
        if (newVolume)
        {
            settings["Processing"]!["StateDirectory"] = Path.Combine(directory.Directory, "new-volume");
        }

        using (var faulty = WorkerProcess.Start(settings, Path.Combine(directory.Directory, "run1"), environment: new Dictionary<string, string> { ["STREAMSEQ_TEST_STORE_FAULT"] = "kill-during-restore:1" }))
        {
            Assert.True(faulty.WaitForExit(TimeSpan.FromMinutes(3)), $"the worker did not kill itself during the restore:\n{faulty.Logs()}");
            Assert.Equal(137, faulty.ExitCode);
            Assert.DoesNotContain("Restored 4 partitions", faulty.Logs(), StringComparison.Ordinal);
        }

        Assert.Equal(b, bed.CountCommitted(bed.Options.FilteredTopic));
        bed.Produce(input[b..]);
        var restores = StoreRestores(RunUntilCommitted(bed, settings, Path.Combine(directory.Directory, "run2"), input.Count));
        output.WriteLine(Describe(restores));
        Assert.Equal(KafkaTestBed.InputPartitions, restores.Count);

        // From its checkpoint again (the batch that reached the store did not move it), or from the beginning again.
        Assert.All(restores, r => Assert.Equal(newVolume, r.From == 0));
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    [Fact]
    public void Restart_OnTheSameVolume_RestoreLogAndMetricCountTheStreamsFoundInTheLocalStore()
    {
        const int streams = 40;
        using var directory = new Scratch("streamseq-disk-count-");
        using var bed = new KafkaTestBed("disk-count");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: streams, perStream: 5, seed: 3);
        var store = new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = directory.Directory };
        KafkaStreamWorker Create(KafkaTransportOptions o, KafkaTransportMetrics metrics, ILogger<KafkaStreamWorker> log) =>
            new(o, router, new ProcessorOptions(), new ProcessingMetrics(), metrics, log, storeOptions: store);

        bed.Produce(input);
        using (bed.StartInProcess("w1", o => Create(o, new KafkaTransportMetrics(), TestLog.For<KafkaStreamWorker>("w1"))))
        {
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90));
        }

        // The same instance on the same volume: every state is in the local store, the changelog adds nothing after the
        // checkpoint of the clean stop.
        var log = new HostileChangelogTests.ListLogger();
        var metrics = new KafkaTransportMetrics();
        long restored = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name == "streamseq.streams.restored")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref restored, value));
        listener.Start();
        using (var w = bed.StartInProcess("w1", o => Create(o, metrics, log)))
        {
            WaitUntil(() => w.Error is not null || (w.Worker.Status.Ready && w.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions), "the worker to restore every partition");
            Assert.Null(w.Error);
        }

        // Each partition says how many streams its local store holds and that none came from the changelog; the
        // summaries and the metric count them all. They used to say "0 streams from 0 changelog records" and
        // "(0 streams)", as if the state were lost.
        var lines = log.Lines;
        output.WriteLine(string.Join("\n", lines.Where(l => l.StartsWith("Restored", StringComparison.Ordinal))));
        var partitions = lines.Select(l => LocalStoreLine().Match(l)).Where(m => m.Success).ToList();
        Assert.Equal(KafkaTestBed.InputPartitions, partitions.Count);
        Assert.Equal(streams, partitions.Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
        Assert.All(partitions, m => Assert.Equal("0", m.Groups[3].Value));
        var summaries = lines.Select(l => SummaryLine().Match(l)).Where(m => m.Success).ToList();
        Assert.NotEmpty(summaries);
        Assert.Equal(streams, summaries.Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        Assert.Equal(streams, Interlocked.Read(ref restored));
    }

    /// <summary>The worker settings with the disk store, a 1 MiB cache and the given checkpoint interval.</summary>
    internal static JsonObject DiskSettings(KafkaTestBed bed, Scratch directory, string instanceId, string checkpointInterval)
    {
        var settings = WorkerProcess.Settings(bed, instanceId, commitInterval: "00:00:00.200");
        var processing = settings["Processing"]!.AsObject();
        processing["StateStore"] = "rocksdb";
        processing["StateDirectory"] = Path.Combine(directory.Directory, "state");
        processing["CacheBytes"] = 1 << 20;
        processing["CheckpointInterval"] = checkpointInterval;
        return settings;
    }

    /// <summary>Runs a worker process until <paramref name="expected"/> filtered records are committed, stops it (SIGTERM) and returns its log.</summary>
    private static string RunUntilCommitted(KafkaTestBed bed, JsonObject settings, string directory, int expected)
    {
        using var worker = WorkerProcess.Start(settings, directory);
        bed.WaitForFiltered(expected, TimeSpan.FromMinutes(3), worker.Logs);
        Assert.Equal(0, worker.Stop(TimeSpan.FromSeconds(60)));
        return worker.Logs();
    }

    private static string Describe(List<(int Partition, long From, bool StartedOver, long Records)> restores) =>
        string.Join("; ", restores.Select(r => $"partition {r.Partition} from offset {r.From}, {r.Records} records read"));

    /// <summary>Each partition's last restore in a worker's log: where its disk store resumed reading, and how many records it read.</summary>
    internal static List<(int Partition, long From, bool StartedOver, long Records)> StoreRestores(string logs)
    {
        var records = new Dictionary<int, long>();
        foreach (Match m in RestoredLine().Matches(logs))
        {
            records[int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }

        var stores = new Dictionary<int, (long, bool)>();
        foreach (Match m in StoreLine().Matches(logs))
        {
            stores[int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)] = (long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), bool.Parse(m.Groups[3].Value));
        }

        return [.. stores.OrderBy(s => s.Key).Select(s => (s.Key, s.Value.Item1, s.Value.Item2, records.GetValueOrDefault(s.Key, -1)))];
    }

    [GeneratedRegex(@"Restored partition (\d+) with its local disk store: (?:about )?\d+ .*?streams?, \d+ states? read from (\d+) changelog records?")]
    private static partial Regex RestoredLine();

    [GeneratedRegex(@"^Restored partition (\d+) with its local disk store: (\d+) streams?, (\d+) states? read from")]
    private static partial Regex LocalStoreLine();

    [GeneratedRegex(@"^Restored \d+ partitions? \((\d+) streams?: ")]
    private static partial Regex SummaryLine();

    [GeneratedRegex(@"Disk store of partition (\d+) brought up to the changelog from offset (\d+) \(read from the beginning instead: (True|False)\)")]
    private static partial Regex StoreLine();
}
