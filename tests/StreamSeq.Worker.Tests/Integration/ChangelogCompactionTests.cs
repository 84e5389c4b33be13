using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// Restore from a changelog as Apache Kafka's cleaner leaves it (one offset marker per partition, the last state per
/// stream) and from the embedded broker's uncompacted changelog in which aborted and crashed transactions stay visible:
/// either way every stream continues exactly as an uninterrupted run.
/// </summary>
public sealed class ChangelogCompactionTests
{
    private const string Compacted = "streamseq.changelog.compacted";

    [Fact]
    public void Restore_CompactedChangelogAfterOneStreamMovedOn_EveryStreamContinuesBitIdentically()
    {
        using var bed = new KafkaTestBed("compaction-one-stream");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var all = TestInput.Generate(streams: 20, perStream: 70, seed: 11);
        var times = Times(all);
        var first = all.Where((r, i) => times[i] < 30).ToList();
        var movedOn = all.Where((r, i) => r.Stream == "sensor-0000" && times[i] >= 30 && times[i] < 60).ToList();
        var rest = all.Except(first).Except(movedOn).ToList();

        bed.Produce(first);
        using (bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(first.Count, TimeSpan.FromSeconds(90));
            bed.Produce(movedOn);
            bed.WaitForFiltered(first.Count + movedOn.Count, TimeSpan.FromSeconds(90));
        }

        var outcome = ChangelogCleaner.Compact(bed, bed.Options.ChangelogTopic, bed.AddChangelog(Compacted));
        Assert.True(outcome.Kept < outcome.Read, $"the copy should be smaller than the changelog: {outcome}");
        Assert.Equal(20, outcome.Kept - outcome.Markers); // the last state of each stream, and one marker per partition

        long restored;
        using (var w = bed.StartInProcess(router, "w2", o => o.ChangelogTopic = Compacted))
        {
            WaitUntil(() => w.Worker.Status.Ready && w.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions, "the worker to restore every partition from the copy");
            restored = w.Worker.Status.LiveStreams;
            bed.Produce(rest);
            bed.WaitForFiltered(all.Count, TimeSpan.FromSeconds(90));
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected([.. first, .. movedOn, .. rest], router));
        Assert.Equal(20, restored);
    }

    [Fact]
    public void Restore_ChangelogWithAbortsAndCrashedTransactionsThenItsCompactedCopy_EveryStreamContinuesBitIdentically()
    {
        using var bed = new KafkaTestBed("compaction-chaos");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var generated = TestInput.Generate(streams: 40, perStream: 48, seed: 12);
        var generatedTimes = Times(generated);

        // Streams 36-39 are born in the third chunk: a crashed transaction writes them a state before they exist.
        var newcomers = Enumerable.Range(36, 4).Select(Stream).ToHashSet(StringComparer.Ordinal);
        var timed = generated.Select((r, i) => (Record: r, Time: generatedTimes[i])).Where(x => !newcomers.Contains(x.Record.Stream) || x.Time >= 24).ToList();
        var input = timed.ConvertAll(x => x.Record);
        var chunks = Enumerable.Range(0, 4).Select(c => timed.Where(x => x.Time / 12 == c).Select(x => x.Record).ToList()).ToList();

        // After the third chunk four streams move on alone: the last transactions before the cleaner runs leave every
        // other stream's state in older transactions, whose offset markers compaction removes.
        var busy = Enumerable.Range(0, 4).Select(Stream).ToHashSet(StringComparer.Ordinal);
        var alone = timed.Where(x => busy.Contains(x.Record.Stream) && x.Time is >= 36 and < 42).Select(x => x.Record).ToList();
        chunks[3] = [.. chunks[3].Except(alone)];

        // The first chunk's last readings arrive after the worker's first commit, so that a later transaction of the
        // same worker carries them (the worker may commit the rest of the chunk in one transaction).
        var late = timed.Where(x => x.Time == 11).Select(x => x.Record).ToList();
        chunks[0] = [.. chunks[0].Except(late)];
        var done = 0;
        long aborts = 0;

        // 1. Two aborted transactions: one whose first output batch fails, one whose commit fails after its offset
        //    markers reached the changelog; both are redone.
        var first = chunks[0].Count;
        aborts += RunChunk(bed, router, "w1", bed.Options.ChangelogTopic, chunks[0], ref done, () => bed.Cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.InvalidRecord), w =>
        {
            WaitUntil(() => w.Worker.Status.Commits >= 1, "a first commit after the failed produce");
            bed.Cluster.PushRequestErrors(KafkaApiKey.EndTxn, ErrorCode.UnknownProducerId);
            ProduceByPartition(bed, late);
            WaitUntil(() => w.Worker.Status.Aborts >= 2, "the commit of the late readings to fail");
            bed.WaitForFiltered(first + late.Count, TimeSpan.FromSeconds(90));
        });
        done += late.Count;

        // 2. An instance dies mid-transaction after writing states (of live streams and of one not yet born) but no
        //    offset marker. On the embedded broker its records stay visible, and later markers follow them.
        CrashMidTransaction(bed, router, "crashed-1", ["sensor-0001", "sensor-0002", "sensor-0005", "sensor-0010", "sensor-0017", "sensor-0036", "sensor-0037"]);
        aborts += RunChunk(bed, router, "w2", bed.Options.ChangelogTopic, chunks[1], ref done);
        CrashMidTransaction(bed, router, "crashed-2", ["sensor-0003", "sensor-0001", "sensor-0038"]);
        var third = done + chunks[2].Count;
        aborts += RunChunk(bed, router, "w3", bed.Options.ChangelogTopic, chunks[2], ref done, during: _ =>
        {
            bed.WaitForFiltered(third, TimeSpan.FromSeconds(90));
            ProduceByPartition(bed, alone);
            bed.WaitForFiltered(third + alone.Count, TimeSpan.FromSeconds(90));
        });
        done += alone.Count;
        CrashMidTransaction(bed, router, "crashed-3", ["sensor-0004", "sensor-0039", "sensor-0036"]);

        // 3. The cleaner runs; a worker restores from its result.
        var outcome = ChangelogCleaner.Compact(bed, bed.Options.ChangelogTopic, bed.AddChangelog(Compacted));
        Assert.True(outcome.Uncommitted >= 13, $"the crashed transactions' records should be in the changelog: {outcome}");
        Assert.Equal(KafkaTestBed.InputPartitions, outcome.Markers);
        aborts += RunChunk(bed, router, "w4", Compacted, chunks[3], ref done);

        Assert.Equal(input.Count, done);
        Assert.True(aborts >= 2, $"both injected errors should have aborted a transaction ({aborts} aborts)");
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    /// <summary>Stream i lives in input partition i % 4 (the tests produce to explicit partitions).</summary>
    private static string Stream(int index) => $"sensor-{index:D4}";

    private static int PartitionOf(string stream) => int.Parse(stream[^4..], System.Globalization.CultureInfo.InvariantCulture) % KafkaTestBed.InputPartitions;

    private static void ProduceByPartition(KafkaTestBed bed, List<(string Stream, string Value)> records)
    {
        foreach (var group in records.GroupBy(r => PartitionOf(r.Stream)))
        {
            bed.Produce([.. group], partition: group.Key);
        }
    }

    /// <summary>Produces a chunk, runs a worker until its outputs are committed, stops it; returns its aborted transactions.</summary>
    private static long RunChunk(KafkaTestBed bed, ModelRouter router, string instance, string changelog, List<(string Stream, string Value)> chunk, ref int done, Action? beforeStart = null, Action<KafkaTestBed.WorkerHandle>? during = null)
    {
        ProduceByPartition(bed, chunk);
        done += chunk.Count;
        var expected = done;
        beforeStart?.Invoke();
        using var w = bed.StartInProcess(router, instance, o => o.ChangelogTopic = changelog);
        during?.Invoke(w);
        bed.WaitForFiltered(expected, TimeSpan.FromSeconds(90));
        return w.Worker.Status.Aborts;
    }

    /// <summary>
    /// What an instance that dies in the middle of a transaction leaves in the changelog: state records (valid states of
    /// the stream's model, but of readings that were never committed) stamped with a transaction that never wrote its
    /// offset marker. A restore that let them count would resume those streams from the wrong state.
    /// </summary>
    private static void CrashMidTransaction(KafkaTestBed bed, ModelRouter router, string instance, IEnumerable<string> streams)
    {
        var config = new ProducerConfig { BootstrapServers = bed.Cluster.BootstrapServers, TransactionalId = instance, EnableIdempotence = true };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        producer.InitTransactions(TimeSpan.FromSeconds(10));
        producer.BeginTransaction();
        foreach (var stream in streams)
        {
            var partition = PartitionOf(stream);
            var stamp = Encoding.UTF8.GetBytes($"{instance}/0/1/{partition}");
            producer.Produce(
                new TopicPartition(bed.Options.ChangelogTopic, partition),
                new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(stream), Value = ForeignState(router, stream), Headers = [new Header(ChangelogKeys.TransactionHeader, stamp)] });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));

        // No commit and no abort: the process is gone. (The embedded broker neither aborts nor hides the records.)
    }

    /// <summary>A valid state of the stream's model after a reading far from anything the test produces.</summary>
    private static byte[] ForeignState(ModelRouter router, string stream)
    {
        using var processor = new StreamProcessor(router, new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var store = new StateStore();
        var reading = Encoding.UTF8.GetBytes("{\"time\":\"2026-01-01T00:07:30Z\",\"values\":[500]}");
        processor.ProcessEncoded(reading, stream, double.NaN, default, new SourcePosition("crashed", 0, 0), store, NullSink.Instance);
        Assert.True(store.TryGetLive(stream, out var state));
        return StreamStateCodec.ToBytes(state);
    }

    private static int[] Times(List<(string Stream, string Value)> records)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var times = new int[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            times[i] = seen[records[i].Stream] = seen.GetValueOrDefault(records[i].Stream, -1) + 1;
        }

        return times;
    }
}
