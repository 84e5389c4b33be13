using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.EndToEnd;

/// <summary>
/// Target (b): latency from producing an input record to its <c>filtered</c> output being visible to a read_committed
/// consumer, with input paced at a fixed rate (a fraction of the measured maximum). The worker stamps each output with
/// its input's timestamp, which the producer set when the record was produced. The embedded broker shows records to
/// read_committed readers before their transaction commits (it does not implement the last stable offset), so the
/// visible time of an output is the later of when the reader got it and when its transaction committed: every output
/// carries its transaction's stamp header, and the worker's commit counter is observed as each transaction ends.
/// </summary>
internal static class LatencyScenario
{
    public sealed record Result(double Fraction, double Rate, double AchievedRate, int Samples, double P50, double P90, double P99, double Max, TimeSpan CommitInterval, long BacklogAtEnd, double CommitP50, double CommitP99);

    public static Result Execute(Broker broker, int streams, double fraction, double maxRate, TimeSpan warmUp, TimeSpan duration, TextWriter log)
    {
        var rate = fraction * maxRate;
        var input = broker.NewTopic("latency.input", Broker.InputPartitions);
        var options = ThroughputScenario.Options(broker, input, $"latency{fraction * 100:F0}");
        var metrics = new KafkaTransportMetrics();
        var committedAt = new ConcurrentDictionary<long, double>();
        var measuring = 0;
        long ended = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name is "streamseq.kafka.transactions.committed" or "streamseq.kafka.transactions.aborted" or "streamseq.kafka.commit.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };

        // Runs on the loop's thread right after each transaction ends; transactions are numbered from 1 as the stamps are.
        listener.SetMeasurementEventCallback<long>((instrument, _, _, _) =>
        {
            var sequence = Interlocked.Increment(ref ended);
            if (instrument.Name.EndsWith("committed", StringComparison.Ordinal))
            {
                committedAt[sequence] = NowMilliseconds();
            }
        });
        // How long each commit took (changelog writes, offsets, CommitTransaction): the part of the latency after the
        // transaction closes. The histogram records seconds (its unit is "s"); the report gives milliseconds.
        var commitDurations = new ConcurrentQueue<double>();
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            if (Volatile.Read(ref measuring) == 1)
            {
                commitDurations.Enqueue(value * 1000);
            }
        });
        listener.Start();
        using var runner = LoopRunner.Worker(options, Workload.Router(), metrics);
        var clock = Stopwatch.StartNew();
        while (!runner.Assigned(Broker.InputPartitions))
        {
            runner.ThrowIfFailed();
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException("latency: the worker never got its partitions.");
            }

            Thread.Sleep(5);
        }

        var latencies = new List<(long Transaction, double Produced, double Seen)>();
        using var stopReading = new CancellationTokenSource();
        var reader = new Thread(() => Read(broker, options.FilteredTopic, latencies, () => Volatile.Read(ref measuring) == 1, stopReading.Token)) { IsBackground = true, Name = "latency-reader" };
        reader.Start();

        // Pace the input: the records of the throughput workload, round-robin over the streams, at the given rate.
        var rounds = (int)Math.Ceiling(rate * (warmUp + duration).TotalSeconds / streams) + 1;
        var records = Workload.Records(streams, rounds);
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            EnableIdempotence = true,
            LingerMs = 1,
            QueueBufferingMaxMessages = 1_000_000,
        }).SetLogHandler((_, _) => { }).Build();
        var produced = 0;
        var pace = Stopwatch.StartNew();
        var total = warmUp + duration;
        var measuredFrom = 0;
        while (pace.Elapsed < total && produced < records.Count)
        {
            var due = (long)(pace.Elapsed.TotalSeconds * rate);
            while (produced < due && produced < records.Count)
            {
                Broker.ProduceWithBackpressure(producer, input, new Message<byte[], byte[]> { Key = records[produced].Key, Value = records[produced].Value });
                produced++;
            }

            if (measuring == 0 && pace.Elapsed >= warmUp)
            {
                measuredFrom = produced;
                Volatile.Write(ref measuring, 1);
            }

            producer.Poll(TimeSpan.Zero);
            Thread.Sleep(1);
        }

        var achieved = (produced - measuredFrom) / duration.TotalSeconds;
        producer.Flush(TimeSpan.FromSeconds(30));

        // How far the worker was behind when the input stopped: a growing backlog means the rate was beyond what the
        // worker sustained while sharing the machine with this producer and reader.
        var backlog = produced - runner.Processed;

        // Let the last transactions commit and be read, then stop.
        Thread.Sleep(options.CommitInterval * 5);
        stopReading.Cancel();
        reader.Join();
        runner.ThrowIfFailed();
        double[] sorted;
        lock (latencies)
        {
            sorted = [.. latencies.Where(l => committedAt.ContainsKey(l.Transaction)).Select(l => Math.Max(l.Seen, committedAt[l.Transaction]) - l.Produced).Order()];
            if (sorted.Length != latencies.Count)
            {
                throw new InvalidOperationException($"{latencies.Count - sorted.Length} outputs belong to transactions that never committed.");
            }
        }

        var result = new Result(fraction, rate, achieved, sorted.Length, Measure.Quantile(sorted, 0.5), Measure.Quantile(sorted, 0.9), Measure.Quantile(sorted, 0.99), sorted.Length > 0 ? sorted[^1] : double.NaN, options.CommitInterval, backlog, Measure.Quantile([.. commitDurations.Order()], 0.5), Measure.Quantile([.. commitDurations.Order()], 0.99));
        log.WriteLine($"latency at {fraction:P0} of the maximum: {result.Samples:N0} outputs at {result.AchievedRate:N0} records/s: p50 {result.P50:F0} ms, p90 {result.P90:F0} ms, p99 {result.P99:F0} ms, max {result.Max:F0} ms (commit interval {options.CommitInterval.TotalMilliseconds:F0} ms; commits took p50 {result.CommitP50:F1} ms, p99 {result.CommitP99:F1} ms), backlog when input stopped {backlog:N0}");
        return result;
    }

    private static double NowMilliseconds() => DateTimeOffset.UtcNow.Ticks / (double)TimeSpan.TicksPerMillisecond - DateTimeOffset.UnixEpoch.Ticks / (double)TimeSpan.TicksPerMillisecond;

    private static void Read(Broker broker, string topic, List<(long Transaction, double Produced, double Seen)> latencies, Func<bool> measuring, CancellationToken stop)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "e2e-latency-reader-unused",
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 5,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, Broker.OutputPartitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        while (!stop.IsCancellationRequested)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(20));
            if (r is null || !measuring())
            {
                continue;
            }

            var seen = NowMilliseconds();
            var sent = r.Message.Timestamp.UnixTimestampMs;
            if (!r.Message.Headers.TryGetLastBytes(ChangelogKeys.TransactionHeader, out var stamp))
            {
                throw new InvalidOperationException("an output record carries no transaction stamp.");
            }

            var transaction = long.Parse(Encoding.UTF8.GetString(stamp).Split('/')[2], System.Globalization.CultureInfo.InvariantCulture);
            lock (latencies)
            {
                latencies.Add((transaction, sent, seen));
            }
        }

        consumer.Close();
    }
}
