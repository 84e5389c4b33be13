using System.Text;
using Microsoft.Extensions.Logging;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;
using Xunit.Abstractions;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// A stream whose state outgrows the producer's <c>message.max.bytes</c> cannot be written to the changelog. Its
/// view must never go back to an older state, neither while the worker runs (with the disk store, once the stream
/// leaves the memory cache, its next record used to read the older state back from RocksDB) nor after a restart (the
/// changelog's older state used to be restored): it starts again from its model's prior, the same way in both cases.
/// </summary>
public sealed class OversizeStateTests(ITestOutputHelper output)
{
    private const string Stream = "sensor-0000";

    /// <summary>Records per chunk: each chunk is committed before the next one is produced.</summary>
    private const int Chunk = 15;

    private const int Chunks = 6;

    /// <summary>A fixed-lag window longer than the input: the state grows with every record.</summary>
    private const int Lag = 100;

    /// <summary>More than a state record's key, stamp headers and record overhead.</summary>
    private const int Overhead = 300;

    [Theory]
    [InlineData("rocksdb")]
    [InlineData("memory")]
    public void Run_StateOutgrowsTheMessageLimit_TheStreamStartsAgainFromItsPriorWhileRunningAndAfterARestartNeverFromAnOlderState(string kind)
    {
        using var directory = new Scratch("streamseq-oversize-");
        using var bed = new KafkaTestBed("oversize-" + kind);
        var router = KafkaTestBed.Router(TestInput.Model, lag: Lag, horizon: 1);
        var input = TestInput.Generate(streams: 1, perStream: Chunk * Chunks, seed: 5);

        // The state after two chunks fits the limit; after three it does not, by far more than any record overhead.
        var sizes = StateSizes(input, router);
        var limit = sizes[(2 * Chunk) - 1] + Overhead;
        output.WriteLine($"state bytes after each record: {string.Join(",", sizes)}; message.max.bytes {limit}");
        Assert.True(sizes[(3 * Chunk) - 1] > limit + Overhead, "the model's state must outgrow the limit within the third chunk");

        var store = kind == "rocksdb"
            ? new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = directory.Directory, CacheBytes = 1 }
            : StateStoreOptions.Memory;
        var log = new HostileChangelogTests.ListLogger();
        KafkaStreamWorker Create(KafkaTransportOptions o)
        {
            o.Client["message.max.bytes"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return new(o, router, new ProcessorOptions(), new ProcessingMetrics(), new KafkaTransportMetrics(), log, storeOptions: store);
        }

        void ProduceChunk(KafkaTestBed.WorkerHandle w, int chunk)
        {
            bed.Produce(input[(chunk * Chunk)..((chunk + 1) * Chunk)]);
            WaitUntil(() => w.Error is not null || bed.CountCommitted(bed.Options.FilteredTopic) >= (chunk + 1) * Chunk, $"chunk {chunk} committed");
            Assert.Null(w.Error);
        }

        // Four chunks while running (the third outgrows the limit, the fourth follows it), then a restart on the same
        // volume and the last two.
        using (var w = bed.StartInProcess("w1", Create))
        {
            for (var chunk = 0; chunk < 4; chunk++)
            {
                ProduceChunk(w, chunk);
            }
        }

        using (var w = bed.StartInProcess("w1", Create))
        {
            for (var chunk = 4; chunk < Chunks; chunk++)
            {
                ProduceChunk(w, chunk);
            }
        }

        var filtered = bed.ReadCommitted(bed.Options.FilteredTopic)[Stream];
        Assert.Equal(input.Count, filtered.Count);

        // Every output either continues the stream as an uninterrupted run from the last start would, or starts it
        // again from its prior: never from an older state.
        var starts = new List<int> { 0 };
        var expected = ExpectedFiltered(bed, router, input, 0);
        for (var i = 0; i < filtered.Count; i++)
        {
            if (filtered[i] == expected[i - starts[^1]])
            {
                continue;
            }

            expected = ExpectedFiltered(bed, router, input, i);
            Assert.True(filtered[i] == expected[0], $"output {i} of {Stream} neither continues the stream (from record {starts[^1]}) nor starts it again from its prior: it went back to an older state\n{filtered[i]}");
            starts.Add(i);
        }

        output.WriteLine($"{kind}: the stream started from its prior at records {string.Join(", ", starts)}");
        Assert.True(starts.Count > 1, "the stream's state never outgrew the limit");
        Assert.Contains(log.Lines, l => l.Contains($"The state of stream {Stream}", StringComparison.Ordinal) && l.Contains("starts again from its model's prior", StringComparison.Ordinal));
    }

    /// <summary>The serialised state's bytes after each record of an uninterrupted run.</summary>
    private static int[] StateSizes(List<(string Stream, string Value)> input, Processing.Models.ModelRouter router)
    {
        using var processor = new StreamProcessor(router, new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var store = new StateStore();
        var sink = new NullSink();
        var sizes = new int[input.Count];
        for (var i = 0; i < input.Count; i++)
        {
            processor.ProcessEncoded(Encoding.UTF8.GetBytes(input[i].Value), input[i].Stream, double.NaN, default, new SourcePosition("sizes", 0, i), store, sink);
            Assert.True(store.TryGetLive(input[i].Stream, out var state));
            sizes[i] = StreamStateCodec.ToBytes(state).Length;
        }

        return sizes;
    }

    private static List<string> ExpectedFiltered(KafkaTestBed bed, Processing.Models.ModelRouter router, List<(string Stream, string Value)> input, int from) =>
        bed.Expected(input[from..], router)[bed.Options.FilteredTopic][Stream];

    private sealed class NullSink : IRecordSink
    {
        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
        {
        }

        public void DeadLetter(in DeadLetter letter)
        {
        }
    }
}
