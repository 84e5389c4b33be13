using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;

namespace StreamSeq.EndToEnd;

/// <summary>
/// Target (d): state restore rate. A compacted changelog as the worker writes it (one state per stream, written in
/// stamped transactions each closed by the input partition's offset marker) is restored by the worker's own path: the changelog
/// restorer reads every partition to its end (read_committed) and the processor decodes each state into a new store.
/// </summary>
internal static class RestoreScenario
{
    public sealed record Run(double ReadSeconds, double DecodeSeconds, double CpuSeconds, long Streams)
    {
        public double Seconds => ReadSeconds + DecodeSeconds;

        public double StreamsPerSecond => Streams / Seconds;

        public double StreamsPerCpuSecond => Streams / CpuSeconds;
    }

    /// <param name="Cold">The first run, with code not yet optimised by the JIT (as at a worker's start); not in the medians.</param>
    public sealed record Result(int Streams, int Partitions, double StateBytes, Run Cold, IReadOnlyList<Run> Runs)
    {
        public double StreamsPerSecond => Measure.Median([.. Runs.Select(r => r.StreamsPerSecond)]);

        public double StreamsPerCpuSecond => Measure.Median([.. Runs.Select(r => r.StreamsPerCpuSecond)]);

        public double ReadPerSecond => Measure.Median([.. Runs.Select(r => r.Streams / r.ReadSeconds)]);

        public double DecodePerSecond => Measure.Median([.. Runs.Select(r => r.Streams / r.DecodeSeconds)]);
    }

    public static Result Execute(Broker broker, int streams, int repeats, TextWriter log)
    {
        // At most 12,500 states per partition keeps each under the embedded broker's 5 MiB retention (a stamped state
        // record takes about 280 bytes there).
        var partitions = Math.Max(8, (streams + 12_499) / 12_500);
        var router = Workload.Router();
        var input = broker.NewTopic("restore.input", partitions);
        var changelog = broker.NewTopic("restore.changelog", partitions);
        var stateBytes = WriteChangelog(broker, router, input, changelog, streams, partitions);
        log.WriteLine($"restore: {streams:N0} stream states ({stateBytes:F0} bytes each) in {changelog}");
        var runs = new List<Run>();
        using var processor = new StreamProcessor(router, new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        for (var i = 0; i <= repeats; i++)
        {
            var probe = Measure.Start();
            var read = Stopwatch.StartNew();
            var restorer = new ChangelogRestorer(KafkaClientDefaults.ChangelogRestoreConsumer(broker.BootstrapServers), TimeSpan.FromSeconds(60));
            var results = restorer.Restore(changelog, input, [.. Enumerable.Range(0, partitions)], CancellationToken.None);
            var readSeconds = read.Elapsed.TotalSeconds;
            var decode = Stopwatch.StartNew();
            long restored = 0;
            var stores = new List<StateStore>();
            foreach (var (partition, result) in results)
            {
                var store = new StateStore(partition);
                foreach (var (id, bytes) in result.States)
                {
                    if (processor.Restore(store, id, bytes, out var reason))
                    {
                        restored++;
                    }
                    else
                    {
                        throw new InvalidOperationException($"restore discarded stream {id}: {reason}");
                    }
                }

                if (result.NextOffset != 0)
                {
                    throw new InvalidOperationException($"partition {partition}: offset marker {result.NextOffset} instead of 0.");
                }

                stores.Add(store);
            }

            var decodeSeconds = decode.Elapsed.TotalSeconds;
            var cost = probe.Stop();
            if (restored != streams)
            {
                throw new InvalidOperationException($"restored {restored} of {streams} streams.");
            }

            var run = new Run(readSeconds, decodeSeconds, cost.Cpu.TotalSeconds, restored);
            log.WriteLine($"  {(i == 0 ? "cold" : "warm"),-5}{run.StreamsPerSecond,10:N0} streams/s (read {restored / readSeconds:N0}/s, decode {restored / decodeSeconds:N0}/s), {run.StreamsPerCpuSecond:N0} streams per CPU second");
            runs.Add(run);
            GC.KeepAlive(stores);
        }

        return new Result(streams, partitions, stateBytes, runs[0], runs[1..]);
    }

    /// <summary>Creates each stream's state by processing a few readings, then writes one record per stream.</summary>
    private static double WriteChangelog(Broker broker, Processing.Models.ModelRouter router, string input, string changelog, int streams, int partitions)
    {
        using var processor = new StreamProcessor(router, new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var store = new StateStore();
        var sink = new NullSink();
        for (var r = 0; r < 3; r++)
        {
            var value = Encoding.UTF8.GetBytes($"{{\"time\":{Workload.StartMilliseconds + (r * 60_000L)},\"values\":[{20 + (0.1 * r)}]}}");
            for (var s = 0; s < streams; s++)
            {
                processor.ProcessEncoded(value, Workload.StreamId(s), double.NaN, default, default, store, sink);
            }
        }

        // As the worker writes it: transactions of at most 10,000 states, every record stamped with its transaction's
        // header, and each partition's offset marker closing the transaction there.
        var config = KafkaClientDefaults.TransactionalProducer(broker.BootstrapServers, $"e2e-restore-writer-{changelog}");
        config.QueueBufferingMaxMessages = 1_000_000;
        using var producer = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        long bytes = 0;
        var states = store.Streams.ToList();
        for (int first = 0, transaction = 0; first < states.Count; first += 10_000, transaction++)
        {
            producer.BeginTransaction();
            var stamps = Enumerable.Range(0, partitions).Select(p => Encoding.UTF8.GetBytes($"restore-writer/1/{transaction}/{p}")).ToArray();
            for (var i = first; i < Math.Min(first + 10_000, states.Count); i++)
            {
                var value = StreamStateCodec.ToBytes(states[i]);
                bytes += value.Length;
                var partition = i % partitions;
                Produce(producer, new TopicPartition(changelog, partition), Encoding.UTF8.GetBytes(states[i].StreamId), value, stamps[partition]);
            }

            for (var p = 0; p < partitions; p++)
            {
                Produce(producer, new TopicPartition(changelog, p), ChangelogKeys.OffsetKey(input, p), ChangelogKeys.OffsetValue(0), stamps[p]);
            }

            producer.CommitTransaction();
        }

        return (double)bytes / streams;
    }

    private static void Produce(IProducer<byte[], byte[]> producer, TopicPartition target, byte[] key, byte[] value, byte[] stamp)
    {
        while (true)
        {
            try
            {
                producer.Produce(target, new Message<byte[], byte[]> { Key = key, Value = value, Headers = new Headers { { ChangelogKeys.TransactionHeader, stamp } } });
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(5));
            }
        }
    }

    private sealed class NullSink : IRecordSink
    {
        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
        {
        }

        public void DeadLetter(in DeadLetter letter) => throw new InvalidOperationException(letter.Message);
    }
}
