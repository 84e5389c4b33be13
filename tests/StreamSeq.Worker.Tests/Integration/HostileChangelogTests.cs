using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// A changelog that holds records this worker never wrote (another tool, another version, a corrupted copy): the restore
/// keeps every other stream, and the stream whose state cannot be read starts again from its model's prior.
/// </summary>
public sealed class HostileChangelogTests
{
    private const int Streams = 8;
    private const string Victim = "sensor-0000";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Restart_StateRecordThatIsNotAStreamState_ThatStreamStartsFromItsPriorAndEveryOtherContinues(bool disk)
    {
        var (bed, log, _) = await RestartWithVictimState("hostile-state", disk, (_, _) => "not a stream state"u8.ToArray());
        bed.Dispose();

        // The disk store keeps the bytes as they were read and discards them, counted, when the stream's next record reads them.
        Assert.Equal(disk ? 0 : 1, log.Count(l => l.Contains($"Discarded restored state of stream {Victim}:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Restart_StateRecordWhoseContentsAreDamaged_ThatStreamStartsAgainFromItsPriorAndEveryOtherContinues()
    {
        // The victim's own last state, its fixed-lag window's write position a million slots past the window: the bytes
        // read back as a stream state, and the model throws on the stream's next record.
        var (bed, log, rest) = await RestartWithVictimState("hostile-contents", disk: false, (bed, router) =>
        {
            var own = bed.ReadPartition(bed.Options.ChangelogTopic, PartitionOf(bed, Victim)).Last(m => m.Key is { } k && k.AsSpan().SequenceEqual(System.Text.Encoding.UTF8.GetBytes(Victim)));
            var state = StreamStateCodec.Read(Victim, own.Value, router, out var reason) ?? throw new InvalidOperationException(reason);
            state.Buffer[((FixedLagSmoother)state.Model.Estimator).Inner.Info.StateLength + 1] = 1e6;
            return StreamStateCodec.ToBytes(state);
        });

        using (bed)
        {
            Assert.Single(log, l => l.Contains($"Stream {Victim}: model level threw on the stream's state", StringComparison.Ordinal));
            Assert.Empty(bed.ReadMessages(bed.Options.DeadLetterTopic));

            // From the restart on, the victim's outputs are those of a stream whose first record is its first after the restart.
            var fromPrior = bed.Expected(rest.Where(r => r.Stream == Victim).ToList(), KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1));
            foreach (var topic in bed.OutputTopics.Where(t => fromPrior.ContainsKey(t)))
            {
                var want = fromPrior[topic][Victim];
                Assert.Equal(want, bed.ReadCommitted(topic)[Victim].TakeLast(want.Count));
            }
        }
    }

    [Fact]
    public async Task Query_StateWhoseModelThrowsReadingIt_AnswersWhatItThrewAndTheWorkerGoesOn()
    {
        // The victim's own last state with its diffuse-rank slot set to a billion: reading the state for a query throws.
        StreamQueryResult answer = default;
        var (bed, log, _) = await RestartWithVictimState(
            "hostile-read",
            disk: false,
            (bed, router) =>
            {
                var own = bed.ReadPartition(bed.Options.ChangelogTopic, PartitionOf(bed, Victim)).Last(m => m.Key is { } k && k.AsSpan().SequenceEqual(System.Text.Encoding.UTF8.GetBytes(Victim)));
                var state = StreamStateCodec.Read(Victim, own.Value, router, out var reason) ?? throw new InvalidOperationException(reason);
                state.Buffer[1] = 1e9;
                return StreamStateCodec.ToBytes(state);
            },
            query: a => answer = a);
        bed.Dispose();

        Assert.Equal(StreamQueryOutcome.Unreadable, answer.Outcome);
        Assert.Null(answer.Snapshot);
        Assert.StartsWith($"model 'level' could not read the state of stream \"{Victim}\" (", answer.Problem, StringComparison.Ordinal);
        Assert.Single(log, l => l.Contains($"Stream {Victim}: model level threw while reading the stream's state for a query", StringComparison.Ordinal));
    }

    /// <summary>
    /// A first worker processes half the input; a state record for <see cref="Victim"/> made by <paramref name="hostile"/>
    /// is committed after its own; a second worker restores and processes the rest. Every other stream's outputs equal an
    /// uninterrupted run's, and the victim's count does too. Returns the test bed (for more checks) and the second worker's log.
    /// </summary>
    private static async Task<(KafkaTestBed Bed, List<string> Log, List<(string Stream, string Value)> Later)> RestartWithVictimState(string name, bool disk, Func<KafkaTestBed, ModelRouter, byte[]> hostile, Action<StreamQueryResult>? query = null)
    {
        using var scratch = new Scratch("streamseq-hostile-");
        var bed = new KafkaTestBed(name);
        try
        {
            return await RestartWithVictimState(bed, disk, scratch.Directory, hostile, query ?? (answer => Assert.Equal(StreamQueryOutcome.Answered, answer.Outcome)));
        }
        catch
        {
            bed.Dispose();
            throw;
        }
    }

    private static async Task<(KafkaTestBed Bed, List<string> Log, List<(string Stream, string Value)> Later)> RestartWithVictimState(KafkaTestBed bed, bool disk, string directory, Func<KafkaTestBed, ModelRouter, byte[]> hostile, Action<StreamQueryResult> query)
    {
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var (all, rest) = ProcessFirstHalf(bed, router, disk, directory);

        // Committed like the worker's own records: a marker of the partition follows them.
        AppendBeforeMarker(bed, Victim, hostile(bed, router));

        var log = new ListLogger();
        using (var w = Start(bed, router, "w2", disk, directory, log))
        {
            WaitUntil(() => w.Error is not null || (w.Worker.Status.Ready && w.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions), "the worker to restore every partition");
            Assert.Null(w.Error);

            // A query reads the stored state too (the disk store keeps it as it was read).
            query(await w.Worker.QueryAsync(Victim, TimeSpan.FromSeconds(30)));
            Assert.Null(w.Error);
            bed.Produce(rest);
            bed.WaitForFiltered(all.Count, TimeSpan.FromSeconds(90));
        }

        var expected = bed.Expected(all, router);
        foreach (var topic in bed.OutputTopics)
        {
            var want = (expected.GetValueOrDefault(topic) ?? []).Where(s => s.Key != Victim).ToDictionary(s => s.Key, s => s.Value);
            var got = bed.ReadCommitted(topic).Where(s => s.Key != Victim).ToDictionary(s => s.Key, s => s.Value);
            Assert.Equal(want, got);
        }

        Assert.Equal(expected[bed.Options.FilteredTopic][Victim].Count, bed.ReadCommitted(bed.Options.FilteredTopic)[Victim].Count);
        return (bed, log.Lines, rest);
    }

    [Fact]
    public void Restart_OffsetMarkerPastTheInputsEnd_InputReadFromItsBeginningOutputsExactlyOnceAndOneWarning()
    {
        using var scratch = new Scratch("streamseq-hostile-");
        using var bed = new KafkaTestBed("hostile-marker");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var (all, rest) = ProcessFirstHalf(bed, router, disk: false, scratch.Directory);

        // A newer marker than the worker's own, a million records past the partition's end.
        var partition = PartitionOf(bed, Victim);
        Append(bed, partition, (ChangelogKeys.OffsetKey(bed.Options.InputTopic, partition), ChangelogKeys.OffsetValue(1_000_000)));

        var log = new ListLogger();
        using (var w = bed.StartInProcess("w2", options => new KafkaStreamWorker(options, router, new ProcessorOptions(), new ProcessingMetrics(), new KafkaTransportMetrics(), log)))
        {
            WaitUntil(() => w.Error is not null || (w.Worker.Status.Ready && w.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions), "the worker to restore every partition");
            Assert.Null(w.Error);
            bed.Produce(rest);
            bed.WaitForFiltered(all.Count, TimeSpan.FromSeconds(90));
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(all, router));
        var warning = Assert.Single(log.Lines, l => l.Contains("before offset 1000000", StringComparison.Ordinal));
        Assert.Contains($"Input partition {partition} resumed at offset 0,", warning, StringComparison.Ordinal);

        // The partition's records read again are older than their streams' restored states.
        Assert.All(bed.ReadMessages(bed.Options.DeadLetterTopic), l => Assert.Equal("too-late", System.Text.Encoding.UTF8.GetString(l.Headers.GetLastBytes(DeadLetterHeaders.Kind))));
    }

    /// <summary>
    /// Produces the first half of the input and lets a first worker process it and stop; returns the whole input and
    /// the half still to come.
    /// </summary>
    private static (List<(string Stream, string Value)> All, List<(string Stream, string Value)> Later) ProcessFirstHalf(KafkaTestBed bed, ModelRouter router, bool disk, string directory)
    {
        var all = TestInput.Generate(Streams, perStream: 40, seed: 5);
        var first = all.Take(Streams * 20).ToList();
        bed.Produce(first);
        using (Start(bed, router, "w1", disk, directory))
        {
            bed.WaitForFiltered(first.Count, TimeSpan.FromSeconds(90));
        }

        return (all, all.Skip(Streams * 20).ToList());
    }

    private static int PartitionOf(KafkaTestBed bed, string stream) => Enumerable.Range(0, KafkaTestBed.InputPartitions)
        .Single(p => bed.ReadPartition(bed.Options.ChangelogTopic, p).Any(m => m.Key is { } k && k.AsSpan().SequenceEqual(System.Text.Encoding.UTF8.GetBytes(stream))));

    private static void Append(KafkaTestBed bed, int partition, params (byte[] Key, byte[]? Value)[] records)
    {
        using var producer = new ProducerBuilder<byte[], byte[]?>(new ProducerConfig { BootstrapServers = bed.Cluster.BootstrapServers, EnableIdempotence = true }).SetLogHandler((_, _) => { }).Build();
        foreach (var (key, value) in records)
        {
            producer.ProduceAsync(new TopicPartition(bed.Options.ChangelogTopic, partition), new Message<byte[], byte[]?> { Key = key, Value = value }).GetAwaiter().GetResult();
        }
    }

    private static KafkaTestBed.WorkerHandle Start(KafkaTestBed bed, ModelRouter router, string instance, bool disk, string directory, ILogger<KafkaStreamWorker>? log = null) =>
        bed.StartWithStore(router, instance, disk ? directory : null, log);

    /// <summary>Writes a record under <paramref name="stream"/> to its stream's changelog partition, then a copy of that partition's newest marker.</summary>
    private static void AppendBeforeMarker(KafkaTestBed bed, string stream, byte[]? value)
    {
        var partition = PartitionOf(bed, stream);
        var markerKey = ChangelogKeys.OffsetKey(bed.Options.InputTopic, partition);
        var marker = bed.ReadPartition(bed.Options.ChangelogTopic, partition).Last(m => m.Key is { } k && k.AsSpan().SequenceEqual(markerKey));
        Append(bed, partition, (System.Text.Encoding.UTF8.GetBytes(stream), value), (markerKey, marker.Value));
    }

    internal sealed class ListLogger : ILogger<KafkaStreamWorker>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> lines = new();

        public List<string> Lines => [.. lines];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception));
    }
}
