using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using StreamSeq.Estimation.Specs;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Native;
using StreamSeq.Kafka.Reading;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Telemetry;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// An embedded Kafka-protocol broker with the worker's topics, plus helpers to produce input, run workers and read
/// committed outputs. Output topics get 16 partitions so no partition nears the mock's 5 MiB retention.
/// </summary>
internal sealed class KafkaTestBed : IDisposable
{
    public const int InputPartitions = 4;
    public const int OutputPartitions = 16;

    /// <summary>
    /// The longest wait of the test's readers' fetches that find no data. The embedded broker holds such a fetch this
    /// long, and a read to the ends of a topic and its changelogs waits on several in a row: at the client's default of
    /// 500 ms every read took 3 to 5 s whatever its size (most of the worker tests' time, in their waits for outputs
    /// and their checks), at 10 ms a few hundred ms. Only how soon the reader learns that a partition has no more
    /// records changes, not what it reads.
    /// </summary>
    private const int ReaderFetchWaitMilliseconds = 10;

    /// <param name="group">The workers' consumer group.</param>
    /// <param name="brokers">How many brokers the embedded cluster has (leaders are spread over them).</param>
    public KafkaTestBed(string? group = null, int brokers = 1)
    {
        KafkaNative.EnsureLoaded();
        Cluster = EmbeddedKafkaCluster.Start(brokers);
        Cluster.SetInitialRebalanceDelay(TimeSpan.Zero);
        Cluster.SetConsumerGroupHeartbeatInterval(TimeSpan.FromMilliseconds(250));
        Cluster.SetConsumerGroupSessionTimeout(TimeSpan.FromSeconds(3));
        Options = new KafkaTransportOptions
        {
            BootstrapServers = Cluster.BootstrapServers,
            GroupId = group ?? "streamseq-test",
            InstanceId = "w1",
            CommitInterval = TimeSpan.FromMilliseconds(500),
            TransactionTimeout = TimeSpan.FromSeconds(10),
            GroupProtocol = "consumer",
        };
        Cluster.CreateTopic(Options.InputTopic, InputPartitions);
        Cluster.CreateTopic(Options.ChangelogTopic, InputPartitions);
        ChangelogTopics.Add(Options.ChangelogTopic);
        foreach (var t in new[] { Options.FilteredTopic, Options.SmoothedTopic, Options.ForecastTopic, Options.AnomalyTopic, Options.DeadLetterTopic })
        {
            Cluster.CreateTopic(t, OutputPartitions);
        }
    }

    public EmbeddedKafkaCluster Cluster { get; }

    public KafkaTransportOptions Options { get; }

    public IEnumerable<string> OutputTopics => [Options.FilteredTopic, Options.SmoothedTopic, Options.ForecastTopic, Options.AnomalyTopic];

    /// <summary>
    /// The changelog topics workers of this bed have written (their offset markers decide which transactions count as
    /// committed); a test that points workers at a compacted copy adds it with <see cref="AddChangelog"/>.
    /// </summary>
    public List<string> ChangelogTopics { get; } = [];

    /// <summary>Creates another changelog topic, partitioned like the input, and counts its markers from now on.</summary>
    public string AddChangelog(string name)
    {
        Cluster.CreateTopic(name, InputPartitions);
        ChangelogTopics.Add(name);
        return name;
    }

    public static ModelRouter Router(string modelJson, int lag, int horizon) =>
        new([ModelBindingFactory.FromSpec(ModelSpec.Parse(modelJson), lag, horizon)]);

    /// <summary>How long <see cref="Produce"/> waits after its last record for the outstanding ones to be acknowledged.</summary>
    private static readonly TimeSpan ProduceFlushTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Sleeps until record <paramref name="index"/> is due at <paramref name="perSecond"/> records a second on <paramref name="clock"/>; not at all when it is already late.</summary>
    internal static void SleepUntilDue(Stopwatch clock, int index, double perSecond)
    {
        // The clock read once: read again for the sleep, it may have passed the due time (a negative sleep throws).
        var wait = TimeSpan.FromSeconds(index / perSecond) - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            Thread.Sleep(wait);
        }
    }

    /// <summary>
    /// Produces records (keyed by stream, partitioned by key) at about <paramref name="perSecond"/> records per second, and
    /// throws when any of them was not acknowledged by the broker: input that never arrived is not the worker's to process,
    /// and a test waiting for its outputs would otherwise time out blaming the worker.
    /// </summary>
    /// <param name="idempotent">
    /// False for a producer that lives through a broker outage: librdkafka's idempotent producer has been seen to stop
    /// delivering for good after the embedded broker went down and up (8,299 of 10,000 records unacknowledged 47 s after
    /// it was back, while the worker's transactional producer had recovered). Without idempotence, one request at a
    /// time and acks from all replicas keep the order per partition; a request whose acknowledgement the outage lost is
    /// sent again right after itself, and when it holds one reading per stream (small requests at a modest rate) the
    /// worker sees exact repeats of those streams' last readings, which it drops and counts as duplicates. Such a
    /// producer that still has records unacknowledged when it gives up is replaced once by a new one that sends them
    /// again.
    /// </param>
    public void Produce(IReadOnlyList<(string Stream, string Value)> records, double perSecond = double.PositiveInfinity, Headers? headers = null, int? partition = null, bool idempotent = true)
    {
        var target = new TopicPartition(Options.InputTopic, partition is int p ? new Partition(p) : Partition.Any);
        var all = Enumerable.Range(0, records.Count).ToList();
        var (left, failed, firstFailure) = ProduceOnce(records, all, target, perSecond, headers, idempotent);
        if (left.Count > 0 && failed == 0 && !idempotent)
        {
            // The outage's producer: librdkafka's client has been seen, rarely, never to deliver again after the embedded
            // broker came back (8,399 of 10,000 records unacknowledged 47 s later, idempotent or not), while the worker's
            // clients recovered. The input is the test's, not the worker's: a new client sends the records the old one
            // never had acknowledged, in their order. A record written whose acknowledgement was lost reaches the worker
            // twice as an exact repeat, which it drops as a duplicate (see the parameter).
            TestLog.Write("input-producer", $"{left.Count} records unacknowledged: sending them again with a new client");
            (left, failed, firstFailure) = ProduceOnce(records, left, target, double.PositiveInfinity, headers, idempotent);
        }

        if (left.Count > 0 || failed > 0)
        {
            throw new TimeoutException(
                $"the test's input producer did not deliver all {records.Count} records: {left.Count} still unacknowledged {ProduceFlushTimeout.TotalSeconds:0} s after the last one was produced, {failed} failed" +
                (firstFailure is { } f ? $" (first: {f.Error.Code} {f.Error.Reason})" : string.Empty) +
                "; the input never reached the broker, so its outputs cannot appear (set STREAMSEQ_TEST_LOG and STREAMSEQ_TEST_KAFKA_DEBUG=broker,eos,topic,metadata to see why)");
        }
    }

    /// <summary>
    /// Produces <paramref name="records"/>[<paramref name="indices"/>] with one client and waits up to
    /// <see cref="ProduceFlushTimeout"/> for their acknowledgements; returns the indices never acknowledged (in order)
    /// and how many deliveries failed.
    /// </summary>
    private (List<int> Unacknowledged, int Failed, DeliveryReport<string, string>? FirstFailure) ProduceOnce(
        IReadOnlyList<(string Stream, string Value)> records, IReadOnlyList<int> indices, TopicPartition target, double perSecond, Headers? headers, bool idempotent)
    {
        var config = new ProducerConfig { BootstrapServers = Cluster.BootstrapServers, EnableIdempotence = idempotent, LingerMs = 5 };
        if (!idempotent)
        {
            config.Acks = Acks.All;
            config.MaxInFlight = 1;
        }

        if (TestLog.KafkaDebug is { } debug)
        {
            config.Debug = debug;
        }

        using var producer = new ProducerBuilder<string, string>(config)
            .SetLogHandler((_, m) => TestLog.Write("input-producer", $"librdkafka {m.Level} {m.Facility}: {m.Message}"))
            .SetErrorHandler((_, e) => TestLog.Write("input-producer", $"error {e.Code}: {e.Reason} (fatal: {e.IsFatal})"))
            .Build();
        var clock = Stopwatch.StartNew();
        var failed = 0;
        var acknowledged = new bool[records.Count];
        DeliveryReport<string, string>? firstFailure = null;
        for (var n = 0; n < indices.Count; n++)
        {
            var i = indices[n];
            var message = new Message<string, string> { Key = records[i].Stream, Value = records[i].Value, Headers = headers };
            void Delivered(DeliveryReport<string, string> report)
            {
                if (!report.Error.IsError)
                {
                    Volatile.Write(ref acknowledged[i], true);
                }
                else if (Interlocked.Increment(ref failed) == 1)
                {
                    firstFailure = report;
                }
            }

            while (true)
            {
                try
                {
                    producer.Produce(target, message, Delivered);
                    break;
                }
                catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }

            if (double.IsFinite(perSecond) && n % 100 == 0)
            {
                SleepUntilDue(clock, n, perSecond);
            }
        }

        var flushing = Stopwatch.StartNew();
        var left = producer.Flush(ProduceFlushTimeout);
        TestLog.Write("input-producer", $"produced {indices.Count} records in {clock.Elapsed.TotalSeconds:0.0} s; flush took {flushing.Elapsed.TotalSeconds:0.0} s, {left} left undelivered, {failed} failed");
        return ([.. indices.Where(i => !Volatile.Read(ref acknowledged[i]))], failed, firstFailure);
    }

    /// <summary>
    /// Produces records given as raw bytes (keys that are not UTF-8, values of any size up to 20 MB) to the input topic,
    /// to a given partition or by key, and returns where each landed.
    /// </summary>
    public List<TopicPartitionOffset> ProduceRaw(IReadOnlyList<(byte[] Key, byte[] Value, int? Partition)> records) =>
        ProduceRaw([.. records.Select(r => new RawRecord(r.Key, r.Value, r.Partition))]);

    /// <summary>
    /// Produces records as they are given, null keys, null values (tombstones) and headers included, to a given
    /// partition or by key (a null key lets the client choose), and returns where each landed.
    /// </summary>
    public List<TopicPartitionOffset> ProduceRaw(IReadOnlyList<RawRecord> records)
    {
        var config = new ProducerConfig { BootstrapServers = Cluster.BootstrapServers, EnableIdempotence = true, LingerMs = 5, MessageMaxBytes = 20_000_000 };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        var positions = new List<TopicPartitionOffset>(records.Count);
        foreach (var r in records)
        {
            var target = new TopicPartition(Options.InputTopic, r.Partition is int p ? new Partition(p) : Partition.Any);
            var result = producer.ProduceAsync(target, new Message<byte[], byte[]> { Key = r.Key!, Value = r.Value!, Headers = r.Headers }).GetAwaiter().GetResult();
            positions.Add(result.TopicPartitionOffset);
        }

        return positions;
    }

    /// <summary>
    /// Every committed record of a topic, grouped by key in partition order (a stream's records are ordered).
    /// </summary>
    /// <remarks>
    /// librdkafka's mock broker does not implement isolation: read_committed readers also see records of transactions
    /// that never committed (docs/kafka-embedded.md). Apache Kafka hides them. This reads with the product's marker
    /// rule (<see cref="ReadIsolation.Marker"/>, the rule of <c>streamseq read</c> on the embedded broker): a record
    /// of a worker transaction counts once that transaction's offset marker reached the changelog partition of its
    /// input partition, the same rule the worker's restore applies.
    /// </remarks>
    public Dictionary<string, List<string>> ReadCommitted(string topic)
    {
        var byKey = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var m in ReadCommittedMessages(topic))
        {
            var key = m.Key is null ? string.Empty : Encoding.UTF8.GetString(m.Key);
            if (!byKey.TryGetValue(key, out var list))
            {
                byKey[key] = list = [];
            }

            list.Add(m.Value is null ? string.Empty : Encoding.UTF8.GetString(m.Value));
        }

        return byKey;
    }

    /// <summary>The committed messages of a topic (see <see cref="ReadCommitted"/>), every partition in offset order.</summary>
    public List<Message<byte[], byte[]>> ReadCommittedMessages(string topic)
    {
        var messages = new List<Message<byte[], byte[]>>();
        var options = new CommittedReaderOptions
        {
            BootstrapServers = Cluster.BootstrapServers,
            Topic = topic,
            ChangelogTopics = [.. ChangelogTopics],
            Isolation = ReadIsolation.Marker,
            Client = [new("fetch.wait.max.ms", ReaderFetchWaitMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        };
        CommittedReader.Read(options, r => messages.Add(r.Message), CancellationToken.None);
        return messages;
    }

    /// <summary>Every message of a topic that reached the broker, partition by partition.</summary>
    public List<Message<byte[], byte[]>> ReadMessages(string topic, int partitions = OutputPartitions) => Read(topic, Enumerable.Range(0, partitions));

    /// <summary>One partition's messages from its beginning to its end, tombstones (null values) included, in offset order.</summary>
    public List<Message<byte[], byte[]>> ReadPartition(string topic, int partition) => Read(topic, [partition]);

    private List<Message<byte[], byte[]>> Read(string topic, IEnumerable<int> partitions)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = Cluster.BootstrapServers,
            GroupId = "reader-unused",
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = ReaderFetchWaitMilliseconds,
        };
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        var pending = new HashSet<int>(partitions);
        consumer.Assign(pending.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var messages = new List<Message<byte[], byte[]>>();
        var clock = Stopwatch.StartNew();
        while (pending.Count > 0)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"reading {topic}: no end of partitions [{string.Join(",", pending)}]");
            }

            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null)
            {
                continue;
            }

            if (r.IsPartitionEOF)
            {
                pending.Remove(r.Partition.Value);
                continue;
            }

            messages.Add(r.Message);
        }

        consumer.Close();
        return messages;
    }

    /// <summary>Number of committed records in a topic (see <see cref="ReadCommitted"/>).</summary>
    public int CountCommitted(string topic) => ReadCommitted(topic).Values.Sum(v => v.Count);

    /// <summary>Sum of the high watermarks of a topic's partitions (records that reached the broker, committed or not).</summary>
    public long HighWatermarkSum(string topic, int partitions = OutputPartitions) => HighWatermarks(topic, partitions).Sum();

    /// <summary>The high watermark of each of a topic's partitions.</summary>
    public long[] HighWatermarks(string topic, int partitions = OutputPartitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Cluster.BootstrapServers, GroupId = "watermarks-unused" }).SetLogHandler((_, _) => { }).Build();
        return [.. Enumerable.Range(0, partitions).Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value)];
    }

    /// <summary>
    /// Each partition's first and next offsets (<c>partition:low..high</c>) of a topic: a low offset above 0 means the
    /// embedded broker's retention dropped the partition's oldest records.
    /// </summary>
    public string Extents(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Cluster.BootstrapServers, GroupId = "watermarks-unused" }).SetLogHandler((_, _) => { }).Build();
        return string.Join(", ", Enumerable.Range(0, partitions).Select(p =>
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            return $"{p}:{w.Low.Value}..{w.High.Value}";
        }));
    }

    /// <summary>Waits until the filtered topic holds <paramref name="expected"/> committed records.</summary>
    /// <remarks>
    /// Committed records are counted (a read of the whole topic and of the changelogs) only once the topic's high
    /// watermarks add up to <paramref name="expected"/>: fewer records on the broker cannot hold enough committed ones.
    /// </remarks>
    public void WaitForFiltered(int expected, TimeSpan timeout, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (HighWatermarkSum(Options.FilteredTopic) >= expected && CountCommitted(Options.FilteredTopic) >= expected)
            {
                return;
            }

            Thread.Sleep(500);
        }

        throw new TimeoutException($"filtered topic has {CountCommitted(Options.FilteredTopic)} of {expected} records after {timeout} ({HighWatermarkSum(Options.FilteredTopic)} written); "
            + $"changelog offsets {string.Join("; ", ChangelogTopics.Select(t => $"{t} [{Extents(t, InputPartitions)}]"))}. {describe?.Invoke()}");
    }

    /// <summary>What an uninterrupted run of the processor over the same records emits, per topic and key, in order.</summary>
    public Dictionary<string, Dictionary<string, List<string>>> Expected(IReadOnlyList<(string Stream, string Value)> input, ModelRouter router)
    {
        var sink = new ExpectedSink(this);
        using var processor = new StreamProcessor(router, new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var store = new StateStore();
        foreach (var (stream, value) in input)
        {
            processor.ProcessEncoded(Encoding.UTF8.GetBytes(value), stream, double.NaN, default, new SourcePosition("expected", 0, 0), store, sink);
        }

        return sink.Topics;
    }

    /// <summary>
    /// The <c>StreamSeq</c> section for a worker process on this bed (<see cref="WorkerProcess.Start"/>): its broker and
    /// group, the topics created here, the given instance id and group protocol, and one model (the test model).
    /// </summary>
    public JsonObject WorkerSettings(string instanceId, string protocol = "consumer", string model = TestInput.Model) => new()
    {
        ["Kafka"] = new JsonObject
        {
            ["BootstrapServers"] = Cluster.BootstrapServers,
            ["GroupId"] = Options.GroupId,
            ["InstanceId"] = instanceId,
            ["GroupProtocol"] = protocol,
            ["CreateTopics"] = false,
        },
        ["Models"] = new JsonArray(JsonNode.Parse(model)),
    };

    /// <summary>Runs an in-process worker on a thread until the returned handle is disposed (graceful stop).</summary>
    public WorkerHandle StartInProcess(ModelRouter router, string instanceId, Action<KafkaTransportOptions>? configure = null, ProcessorOptions? processing = null)
    {
        var options = Clone(Options, instanceId);
        if (TestLog.KafkaDebug is { } debug)
        {
            options.Client["debug"] = debug;
        }

        configure?.Invoke(options);
        return new WorkerHandle(options, router, processing);
    }

    /// <summary>
    /// Runs an in-process worker made by <paramref name="create"/> from this bed's transport options (for a worker with
    /// an output tap or other constructor choices) until the returned handle is disposed.
    /// </summary>
    public WorkerHandle StartInProcess(string instanceId, Func<KafkaTransportOptions, KafkaStreamWorker> create)
    {
        var options = Clone(Options, instanceId);
        return new WorkerHandle(options.InstanceId, create(options));
    }

    /// <summary>
    /// Runs an in-process worker that keeps its states in a disk store under <paramref name="diskDirectory"/>, or in
    /// memory when it is null, logging to <paramref name="log"/> (the test log when none is given).
    /// </summary>
    public WorkerHandle StartWithStore(ModelRouter router, string instanceId, string? diskDirectory, Microsoft.Extensions.Logging.ILogger<KafkaStreamWorker>? log = null) =>
        StartInProcess(instanceId, options => new KafkaStreamWorker(
            options,
            router,
            new ProcessorOptions(),
            new ProcessingMetrics(),
            new KafkaTransportMetrics(),
            log ?? TestLog.For<KafkaStreamWorker>(instanceId),
            storeOptions: diskDirectory is null ? null : new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = diskDirectory }));

    /// <summary>
    /// Produces on a background thread; join the result to wait for the last record to be acknowledged (the join throws
    /// what <see cref="Produce"/> threw, such as undelivered input).
    /// </summary>
    public BackgroundProduction ProduceInBackground(IReadOnlyList<(string Stream, string Value)> records, double perSecond, bool idempotent = true) =>
        new(() => Produce(records, perSecond, idempotent: idempotent));

    public void Dispose() => Cluster.Dispose();

    private static KafkaTransportOptions Clone(KafkaTransportOptions o, string instanceId) => new()
    {
        BootstrapServers = o.BootstrapServers,
        GroupId = o.GroupId,
        InstanceId = instanceId,
        CommitInterval = o.CommitInterval,
        TransactionTimeout = o.TransactionTimeout,
        GroupProtocol = o.GroupProtocol,
        CommitGroupOffsets = o.CommitGroupOffsets,
        ChangelogTopic = o.ChangelogTopic,
    };

    /// <summary>A <see cref="Produce"/> running on a background thread.</summary>
    internal sealed class BackgroundProduction
    {
        private readonly Thread thread;
        private Exception? failure;

        public BackgroundProduction(Action produce)
        {
            thread = new Thread(() =>
            {
                try
                {
                    produce();
                }
                catch (Exception e)
                {
                    // Kept for Join: an exception escaping a thread would end the whole test run.
                    failure = e;
                }
            })
            { IsBackground = true, Name = "producer" };
            thread.Start();
        }

        public bool IsAlive => thread.IsAlive;

        /// <summary>Waits until every record was acknowledged; rethrows the producer's failure (undelivered input).</summary>
        public void Join()
        {
            thread.Join();
            if (failure is not null)
            {
                throw new InvalidOperationException($"input production failed: {failure.Message}", failure);
            }
        }
    }

    /// <summary>An input record as raw bytes: a null key or value is produced as null (a tombstone's value).</summary>
    internal sealed record RawRecord(byte[]? Key, byte[]? Value, int? Partition = null, Headers? Headers = null);

    internal sealed class WorkerHandle : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Thread thread;

        public WorkerHandle(KafkaTransportOptions options, ModelRouter router, ProcessorOptions? processing = null)
            : this(options.InstanceId, new KafkaStreamWorker(options, router, processing ?? new ProcessorOptions(), new ProcessingMetrics(), new KafkaTransportMetrics(), TestLog.For<KafkaStreamWorker>(options.InstanceId)))
        {
        }

        public WorkerHandle(string instanceId, KafkaStreamWorker worker)
        {
            Worker = worker;
            thread = new Thread(() =>
            {
                try
                {
                    Worker.Run(stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Stopped in the middle of a restore or a redo, which the worker's host takes as a clean stop too
                    // (StreamWorkerService): the partitions' next owner restores them from the changelog.
                }
                catch (Exception e)
                {
                    Error = e;
                }
            })
            { IsBackground = true, Name = $"worker-{instanceId}" };
            thread.Start();
        }

        public KafkaStreamWorker Worker { get; }

        public Exception? Error { get; private set; }

        /// <summary>Asks the loop to stop, as the host does at shutdown, without waiting for it.</summary>
        public void RequestStop() => stop.Cancel();

        public void Dispose()
        {
            stop.Cancel();
            thread.Join(TimeSpan.FromSeconds(60));
            Worker.Dispose();
            stop.Dispose();
            if (Error is not null)
            {
                throw new InvalidOperationException("worker failed", Error);
            }
        }
    }

    private sealed class ExpectedSink(KafkaTestBed bed) : IRecordSink
    {
        public Dictionary<string, Dictionary<string, List<string>>> Topics { get; } = [];

        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
        {
            var topic = kind switch
            {
                OutputKind.Filtered => bed.Options.FilteredTopic,
                OutputKind.Smoothed => bed.Options.SmoothedTopic,
                OutputKind.Forecast => bed.Options.ForecastTopic,
                _ => bed.Options.AnomalyTopic,
            };
            if (!Topics.TryGetValue(topic, out var byKey))
            {
                Topics[topic] = byKey = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            }

            var key = streamId.ToString();
            if (!byKey.TryGetValue(key, out var list))
            {
                byKey[key] = list = [];
            }

            list.Add(Encoding.UTF8.GetString(record));
        }

        public void DeadLetter(in DeadLetter letter)
        {
        }
    }
}
