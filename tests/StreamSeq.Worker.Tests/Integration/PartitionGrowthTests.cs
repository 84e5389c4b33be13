using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// Input partitions added while the worker runs (<c>kafka-topics --alter --partitions</c>). The embedded broker cannot
/// add partitions to a topic (it has no CreatePartitions handler, and its own topic API refuses an existing topic), so
/// these tests take the two things an added partition does to the worker one at a time: the group assigns an input
/// partition whose changelog partition does not exist, and a stream's records start arriving on another partition
/// (producers place a key by its hash modulo the partition count) while its state lives under the old one.
/// </summary>
public sealed class PartitionGrowthTests
{
    [Fact]
    public void Run_InputPartitionWithoutChangelogPartition_WaitsWithAnOperatorLineWhileTheOtherPartitionsGoOn()
    {
        using var bed = new KafkaTestBed("growth-short");
        const string shortChangelog = "short.changelog";
        bed.Cluster.CreateTopic(shortChangelog, KafkaTestBed.InputPartitions - 1);
        bed.ChangelogTopics.Add(shortChangelog);
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 40, perStream: 10);
        ProduceByHome(bed, input);
        var log = new CapturingLogger("w1");
        var waiting = KafkaTestBed.InputPartitions - 1;
        var served = input.Where(r => Home(r.Stream) != waiting).ToList();
        using (var w = bed.StartInProcess("w1", o => Worker(o, router, shortChangelog, log)))
        {
            bed.WaitForFiltered(served.Count, TimeSpan.FromSeconds(90), () => $"worker error: {w.Error?.Message ?? "none"}");
            ExactlyOnceTests.WaitUntil(() => log.Lines.Any(l => l.Contains("changelog", StringComparison.Ordinal)), "the line about the missing changelog partition");
            var line = Assert.Single(log.Lines, l => l.Contains($"Input partition {waiting} ", StringComparison.Ordinal));
            Assert.Contains($"'{shortChangelog}'", line, StringComparison.Ordinal);
            Assert.Contains($"--partitions {KafkaTestBed.InputPartitions}", line, StringComparison.Ordinal);
            Assert.Equal([waiting], w.Worker.Status.AwaitingChangelog);
            Assert.Equal(Enumerable.Range(0, waiting), w.Worker.Status.Partitions);

            // Its records are in the lag, from its start (the others' all committed): they wait, and a lag alert sees them.
            var held = input.Count - served.Count;
            ExactlyOnceTests.WaitUntil(() => w.Worker.Status.Lag == held || w.Error is not null, $"the lag to count the waiting partition's {held} records (lag {w.Worker.Status.Lag})");
            Assert.Null(w.Error);
        }

        // Nothing of the waiting partition was processed (its streams have no output at all), the rest exactly once.
        OutputAssert.ExactlyOnce(bed, bed.Expected(served, router));
    }

    [Fact]
    public void Run_ChangelogPartitionsAppearAfterAssignment_PartitionsWaitThenRestoreAndProcessExactlyOnce()
    {
        using var bed = new KafkaTestBed("growth-late");
        const string lateChangelog = "late.changelog";
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 40, perStream: 10);
        bed.Produce(input);
        var log = new CapturingLogger("w1");
        using (var w = bed.StartInProcess("w1", o => Worker(o, router, lateChangelog, log)))
        {
            ExactlyOnceTests.WaitUntil(
                () => Enumerable.Range(0, KafkaTestBed.InputPartitions).All(p => log.Lines.Any(l => l.Contains($"Input partition {p} ", StringComparison.Ordinal))) || w.Error is not null,
                "a line per input partition about the missing changelog");
            Assert.Null(w.Error);
            Assert.Equal(KafkaTestBed.InputPartitions, w.Worker.Status.AwaitingChangelog.Count);
            Assert.Empty(w.Worker.Status.Partitions);
            Assert.Equal(0, w.Worker.Status.Processed);

            // The operator creates the changelog: the worker finds it, restores the partitions and processes their input.
            bed.Cluster.CreateTopic(lateChangelog, KafkaTestBed.InputPartitions);
            bed.ChangelogTopics.Add(lateChangelog);
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90), () => $"worker error: {w.Error?.Message ?? "none"}");
            Assert.Empty(w.Worker.Status.AwaitingChangelog);
            Assert.Equal(KafkaTestBed.InputPartitions, w.Worker.Status.Partitions.Count);
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Run_StreamMovesToAnotherPartition_ItsStateFollowsAndOutputsEqualAnUninterruptedRun(bool disk)
    {
        using var directory = new Scratch("streamseq-moved-");
        using var bed = new KafkaTestBed(disk ? "growth-moved-disk" : "growth-moved");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);

        // On disk with the smallest cache, states leave memory between records and are read back from the store.
        var store = disk ? new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = directory.Directory, CacheBytes = 1 } : null;
        const int streams = 20;
        var input = TestInput.Generate(streams, perStream: 45);
        var before = input.Take(streams * 15).ToList();
        var after = input.Skip(streams * 15).Take(streams * 15).ToList();
        var afterRestart = input.Skip(streams * 30).ToList();
        ProduceByHome(bed, before);
        using (var w = bed.StartInProcess("w1", o => Worker(o, router, bed.Options.ChangelogTopic, TestLog.For<KafkaStreamWorker>("w1"), store)))
        {
            bed.WaitForFiltered(before.Count, TimeSpan.FromSeconds(90));

            // The input topic "grew": each stream's key now lands on the next partition.
            ProduceByHome(bed, after, shift: 1);
            bed.WaitForFiltered(before.Count + after.Count, TimeSpan.FromSeconds(90), () => $"worker error: {w.Error?.Message ?? "none"}");
        }

        // Each stream's state left its old changelog partition (a tombstone is the newest record under its key there).
        foreach (var group in input.Select(r => r.Stream).Distinct().GroupBy(Home))
        {
            var records = bed.ReadPartition(bed.Options.ChangelogTopic, group.Key);
            foreach (var stream in group)
            {
                var newest = records.Last(m => m.Key is { } k && Encoding.UTF8.GetString(k) == stream);
                Assert.Null(newest.Value);
            }
        }

        // A restart restores each stream once, from its new partition, and goes on from there.
        var log = new CapturingLogger("w1");
        using (var w = bed.StartInProcess("w1", o => Worker(o, router, bed.Options.ChangelogTopic, log, store)))
        {
            ProduceByHome(bed, afterRestart, shift: 1);
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90), () => $"worker error: {w.Error?.Message ?? "none"}");
        }

        Assert.Contains(log.Lines, l => l.StartsWith($"Restored {KafkaTestBed.InputPartitions} partitions ({streams} streams", StringComparison.Ordinal));
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    /// <summary>The partition a test stream's records go to first: its number modulo the partition count.</summary>
    private static int Home(string stream) => int.Parse(stream.AsSpan(stream.Length - 4), CultureInfo.InvariantCulture) % KafkaTestBed.InputPartitions;

    /// <summary>Produces each stream's records to its home partition, or <paramref name="shift"/> partitions further.</summary>
    private static void ProduceByHome(KafkaTestBed bed, List<(string Stream, string Value)> records, int shift = 0)
    {
        foreach (var group in records.GroupBy(r => (Home(r.Stream) + shift) % KafkaTestBed.InputPartitions))
        {
            bed.Produce(group.ToList(), partition: group.Key);
        }
    }

    private static KafkaStreamWorker Worker(KafkaTransportOptions options, StreamSeq.Processing.Models.ModelRouter router, string changelog, ILogger<KafkaStreamWorker> logger, StateStoreOptions? store = null)
    {
        options.ChangelogTopic = changelog;
        return new KafkaStreamWorker(options, router, new ProcessorOptions(), new ProcessingMetrics(), new KafkaTransportMetrics(), logger, storeOptions: store);
    }

    /// <summary>Keeps the worker's lines of Information and above (and passes every line on to the test log).</summary>
    private sealed class CapturingLogger(string name) : ILogger<KafkaStreamWorker>
    {
        private readonly ILogger<KafkaStreamWorker> file = TestLog.For<KafkaStreamWorker>(name);
        private readonly ConcurrentQueue<string> lines = new();

        public IReadOnlyList<string> Lines => [.. lines];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information || file.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            file.Log(logLevel, eventId, state, exception, formatter);
            if (logLevel >= LogLevel.Information)
            {
                lines.Enqueue(formatter(state, exception));
            }
        }
    }
}
