using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Kafka.Native;
using StreamSeq.Kafka.Reading;
using StreamSeq.Kafka.Stores;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Telemetry;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// The exactly-once consume-process-produce loop: records from the input topic go through the
/// <see cref="StreamProcessor"/> inside a Kafka transaction that also carries every changed stream's state and each
/// input partition's next offset to the compacted changelog. On assignment a partition's state is restored from the
/// changelog and the consumer seeks to the stored offset, so a crash, a restart or a rebalance resumes exactly where
/// the last committed transaction ended; group offsets are committed in the same transaction for lag monitoring.
/// </summary>
/// <remarks>
/// One loop per worker instance, on one thread: the loop owns the state stores, and rebalance callbacks run inside
/// <c>Consume</c> on the same thread (revocation commits the open transaction first, loss aborts it). A transaction
/// that must abort rewinds every owned partition to the changelog. Fatal client errors (a fenced producer) end the
/// loop and surface to the host.
/// </remarks>
public sealed partial class KafkaStreamWorker : IDisposable
{
    private readonly KafkaTransportOptions options;
    private readonly StreamProcessor processor;
    private readonly ProcessorOptions processorOptions;
    private readonly KafkaTransportMetrics metrics;
    private readonly ILogger logger;
    private readonly Dictionary<int, PartitionState> owned = [];
    private readonly StateStoreOptions storeOptions;
    private readonly Dictionary<int, PartitionStore> disks = [];
    private readonly StoreFault storeFault = StoreFault.FromEnvironment();
    private readonly long checkpointTicks;
    private readonly ConcurrentQueue<(string Stream, TaskCompletionSource<StreamQueryResult> Reply)> queries = new();
    private readonly int maxPendingQueries = DefaultMaxPendingQueries;
    private int pendingQueries;
    private volatile bool ended;
    private readonly Action<OutputKind, ReadOnlySpan<char>, ReadOnlySpan<byte>>? tap;
    private readonly Action<ReadOnlySpan<char>, ReadOnlySpan<byte>, double, int>? inputTap;
    private readonly IStreamOwnershipObserver? ownership;
    private IProducer<byte[], byte[]>? producer;
    private IConsumer<byte[], byte[]>? consumer;
    private KafkaRecordSink? sink;
    private Func<bool>? assignmentLost;
    private bool inTransaction;

    /// <summary>How the last transaction ended: null before any, true committed, false aborted.</summary>
    private bool? lastCommitted;
    private long batchCount;
    private long batchStart;
    private CancellationToken stopping;
    private ChangelogRestorer? restorer;
    private StandbyReader? standby;
    private readonly IDisposable statusExport;
    private readonly ArrayBufferWriter<byte> stateBuffer = new(512);
    private string incarnation = string.Empty;

    /// <summary>
    /// Whether the broker hides the records of transactions that never committed: null until the first commit asks it.
    /// On one that does not (the embedded broker), the offset markers are what make a transaction count, so they are
    /// written only once its other records are acknowledged (<see cref="Commit"/>).
    /// </summary>
    private bool? brokerIsolates;

    /// <summary>When the broker last failed to say whether it isolates transactions (asked again a minute later).</summary>
    private long brokerAskFailedAt;
    private string? consumerName;
    private string? producerName;
    private long transactionSequence;
    private int consecutiveAborts;
    private long commitEstimate;
    private bool keepingUp = true;
    private PartitionState[] progress = [];
    private Timer? lagTimer;
    private readonly Lock lagGate = new();
    private bool lagStopped;
    private const int MaxConsecutiveAborts = 5;

    /// <summary>
    /// Assigned input partitions whose changelog partition does not exist (the input topic has more partitions than the
    /// changelog): paused and unprocessed until a metadata look-up finds their changelog partition.
    /// </summary>
    private readonly HashSet<int> awaiting = [];

    /// <summary>True when <see cref="awaiting"/> holds partitions the consumer has not paused yet (assigned after the callback).</summary>
    private bool pauseAwaiting;

    private long nextChangelogLookup;
    private long movedStreams;

    /// <summary>
    /// Input records in the partitions of <see cref="awaiting"/>, looked up from the broker (a paused partition is not
    /// fetched, so the consumer's cached watermarks say nothing of it) when they start waiting and at each changelog
    /// look-up; read by <see cref="MeasureLag"/> on the timer's thread.
    /// </summary>
    private long awaitingLag;

    /// <summary>The last counted records of each partition of <see cref="awaiting"/> (the loop's thread only).</summary>
    private readonly Dictionary<int, long> awaitingCounts = [];

    /// <summary>
    /// Assigned partitions not restored yet: newly assigned, rewound after an aborted transaction (<see cref="Rewind"/>),
    /// or whose changelog partition appeared (<see cref="TakeUpAwaiting"/>). Where that happens only notes them: the loop
    /// restores them (<see cref="RestoreAssigned"/>) with every assigned partition paused, polling the group consumer
    /// between the restore's reads, so that a restore longer than <c>max.poll.interval.ms</c> neither makes librdkafka
    /// leave the group nor keeps this member from rejoining a rebalance another member started (restored inside the
    /// callback, the member could do neither, and every restore past that bound ended with the member removed and its
    /// partitions restored again elsewhere, a rebalance storm; restored where the transaction aborted or the changelog
    /// was found, the member left the group, lost its partitions and restored them again).
    /// </summary>
    private readonly HashSet<int> toRestore = [];

    /// <summary>
    /// Of <see cref="toRestore"/>, the partitions whose consumer position says nothing of where their committed input ends
    /// (rewound after an aborted transaction, or held since their assignment for their changelog partition): without an
    /// offset marker in the changelog they resume at the partition's beginning.
    /// </summary>
    private readonly HashSet<int> resumeAtBeginning = [];

    /// <summary>The partitions <see cref="RestoreAssigned"/> is restoring now.</summary>
    private HashSet<int> restoring = [];

    /// <summary>Of <see cref="restoring"/>, those revoked or lost by a rebalance served while the restore polled.</summary>
    private readonly HashSet<int> cancelledRestore = [];

    /// <summary>True while <see cref="Status"/> counts the restore of <see cref="toRestore"/> (not ready meanwhile).</summary>
    private bool restorePending;

    /// <summary>
    /// Per partition waiting for its restore, the first record the consumer handed out and the loop passed over: where
    /// its position stood, read again after the restore when the changelog names no offset.
    /// </summary>
    private readonly Dictionary<int, long> passedBeforeRestore = [];

    /// <summary>The longest wait for one waiting partition's watermarks.</summary>
    private static readonly TimeSpan AwaitingWatermarkTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How often the changelog's partitions are looked up again while partitions wait for theirs.</summary>
    private static readonly TimeSpan ChangelogLookupInterval = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait for a metadata answer about the changelog's partitions.</summary>
    private static readonly TimeSpan ChangelogMetadataTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How many streams that moved partitions are logged one by one.</summary>
    private const int LoggedMovedStreams = 20;

    /// <summary>
    /// Streams of a partition's disk store counted one by one at a restore (a read of their keys); a larger store is
    /// counted by RocksDB's estimate, so that a restore from a checkpoint stays short.
    /// </summary>
    private const long CountedStoreStreams = 200_000;

    /// <summary>Changelog records a disk store's restore writes to RocksDB at once.</summary>
    private const int RestoreBatch = 4096;

    /// <summary>The longest wait for the changelog's end when writing a checkpoint (it is skipped otherwise).</summary>
    private static readonly TimeSpan CheckpointQueryTimeout = TimeSpan.FromSeconds(5);

    /// <summary>librdkafka's default <c>message.max.bytes</c>.</summary>
    private const int DefaultMessageMaxBytes = 1_000_000;

    /// <summary>Floor of the output size limit when the broker rejects records as too large.</summary>
    private const int MinOutputLimit = 16 * 1024;

    /// <summary>How often lag is measured from the consumer's cached watermarks (no broker request).</summary>
    private static readonly TimeSpan LagInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Creates the loop.</summary>
    /// <param name="options">Transport settings.</param>
    /// <param name="router">Models and routes.</param>
    /// <param name="processorOptions">Processing settings.</param>
    /// <param name="processingMetrics">Processor instruments.</param>
    /// <param name="metrics">Transport instruments.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="tap">Optional observer of every output record (the dashboard); must not block.</param>
    /// <param name="inputTap">
    /// Optional observer of every input record the processor took in (stream id, value, Kafka timestamp in epoch ms or
    /// NaN, input partition): never of a dead-lettered record or a dropped duplicate; must not block.
    /// </param>
    /// <param name="storeOptions">Where stream states live (null: in memory).</param>
    /// <param name="ownership">Optional observer of the streams restored partitions hold and of partitions given up.</param>
    public KafkaStreamWorker(
        KafkaTransportOptions options,
        ModelRouter router,
        ProcessorOptions processorOptions,
        ProcessingMetrics processingMetrics,
        KafkaTransportMetrics metrics,
        ILogger<KafkaStreamWorker> logger,
        Action<OutputKind, ReadOnlySpan<char>, ReadOnlySpan<byte>>? tap = null,
        Action<ReadOnlySpan<char>, ReadOnlySpan<byte>, double, int>? inputTap = null,
        StateStoreOptions? storeOptions = null,
        IStreamOwnershipObserver? ownership = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        this.storeOptions = storeOptions ?? StateStoreOptions.Memory;
        if (this.storeOptions.Standby && this.storeOptions.Kind != StateStoreKind.RocksDb)
        {
            throw new ArgumentException("standby replicas need the disk store (StateStoreKind.RocksDb).", nameof(storeOptions));
        }

        checkpointTicks = (long)(this.storeOptions.CheckpointInterval.TotalSeconds * Stopwatch.Frequency);
        this.processorOptions = processorOptions;
        this.metrics = metrics;
        this.logger = logger;
        this.tap = tap;
        this.inputTap = inputTap;
        this.ownership = ownership;
        processor = new StreamProcessor(router, processorOptions, processingMetrics, TimeFormat.EpochMilliseconds) { StreamFailed = ReportStreamFailure };
        Status.StallTimeout = options.StallTimeout;
        statusExport = metrics.Track(Status);
    }

    /// <summary>Loop status for health checks and the dashboard.</summary>
    public WorkerStatus Status { get; } = new();

    /// <summary>How many model failures (<see cref="StreamProcessor.StreamFailed"/>) are logged one by one.</summary>
    private const int LoggedStreamFailures = 20;

    private long streamFailures;

    /// <summary>The default of <see cref="MaxPendingQueries"/>.</summary>
    public const int DefaultMaxPendingQueries = 256;

    /// <summary>
    /// The most queries that may wait for the loop at once (<see cref="QueryAsync"/>); beyond it a query is refused at
    /// once (<see cref="StreamQueryOutcome.Full"/>). A query that timed out or was cancelled keeps its place until the
    /// loop takes it off the queue, so the queue never holds more than this, whatever waits on it.
    /// </summary>
    public int MaxPendingQueries
    {
        get => maxPendingQueries;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            maxPendingQueries = value;
        }
    }

    /// <summary>
    /// Queries queued for the loop now, abandoned ones included (at most <see cref="MaxPendingQueries"/>: a query
    /// refused as <see cref="StreamQueryOutcome.Full"/> holds a place for an instant only and is not counted).
    /// </summary>
    public int PendingQueries => Math.Min(Volatile.Read(ref pendingQueries), maxPendingQueries);

    /// <summary>
    /// Asks the loop for a stream's current state. The loop answers between records, so a loop held up (restoring a
    /// changelog, in a rebalance, in a commit that waits for the broker) answers late or not at all: the wait ends
    /// after <paramref name="timeout"/> with <see cref="StreamQueryOutcome.TimedOut"/>, and the loop's late answer goes
    /// nowhere. A loop not yet started or already stopped answers at once, and so does a full queue
    /// (<see cref="MaxPendingQueries"/>); queries still waiting when the loop stops are answered
    /// <see cref="StreamQueryOutcome.Stopped"/>.
    /// </summary>
    /// <param name="streamId">The stream.</param>
    /// <param name="timeout">The longest wait for the loop (<see cref="Timeout.InfiniteTimeSpan"/>: no bound).</param>
    /// <param name="cancellation">Ends the wait with <see cref="OperationCanceledException"/> (the client went away).</param>
    public async Task<StreamQueryResult> QueryAsync(string streamId, TimeSpan timeout, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(streamId);
        cancellation.ThrowIfCancellationRequested();
        if (!Status.Started)
        {
            return new StreamQueryResult(ended ? StreamQueryOutcome.Stopped : StreamQueryOutcome.NotStarted);
        }

        if (Interlocked.Increment(ref pendingQueries) > maxPendingQueries)
        {
            Interlocked.Decrement(ref pendingQueries);
            return new StreamQueryResult(StreamQueryOutcome.Full);
        }

        var reply = new TaskCompletionSource<StreamQueryResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        queries.Enqueue((streamId, reply));
        if (!Status.Started)
        {
            // The loop stopped between the check above and the enqueue, possibly after its last look at the queue.
            AnswerPendingQueries();
        }

        try
        {
            return await reply.Task.WaitAsync(timeout, cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The entry stays queued (and counted) until the loop takes it, and the loop skips it as answered. Should the
            // loop have answered in the meantime, its answer wins.
            return reply.TrySetResult(new StreamQueryResult(StreamQueryOutcome.TimedOut)) ? new StreamQueryResult(StreamQueryOutcome.TimedOut) : await reply.Task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            reply.TrySetCanceled(cancellation);
            throw;
        }
    }

    /// <summary>Runs the loop until <paramref name="cancellation"/> fires, then commits the open transaction and leaves the group.</summary>
    public void Run(CancellationToken cancellation)
    {
        stopping = cancellation;
        incarnation = Guid.NewGuid().ToString("N")[..12];
        KafkaNative.EnsureLoaded();
        var transactionalId = $"{options.GroupId}-{options.EffectiveInstanceId}";
        var producerConfig = KafkaClientDefaults.TransactionalProducer(options.BootstrapServers, transactionalId);
        producerConfig.TransactionTimeoutMs = (int)options.TransactionTimeout.TotalMilliseconds;
        producerConfig.MessageTimeoutMs = (int)options.TransactionTimeout.TotalMilliseconds;
        producerConfig.QueueBufferingMaxMessages = 1_000_000;

        // No per-message delivery reports: a failed send puts the transaction in an abortable state and surfaces at
        // CommitTransaction (which aborts and rewinds), so the reports would only cost a managed callback per record.
        producerConfig.EnableDeliveryReports = false;
        producerConfig.StatisticsIntervalMs = KafkaClientDefaults.StatisticsIntervalMilliseconds;
        Apply(producerConfig, options.Client);
        var protocol = options.GroupProtocol == "consumer" ? Confluent.Kafka.GroupProtocol.Consumer : Confluent.Kafka.GroupProtocol.Classic;
        var consumerConfig = KafkaClientDefaults.InputConsumer(options.BootstrapServers, options.GroupId, protocol);
        if (protocol == Confluent.Kafka.GroupProtocol.Classic)
        {
            consumerConfig.SessionTimeoutMs = (int)options.SessionTimeout.TotalMilliseconds;
            consumerConfig.HeartbeatIntervalMs = Math.Max(100, (int)options.SessionTimeout.TotalMilliseconds / 5);
        }

        consumerConfig.StatisticsIntervalMs = KafkaClientDefaults.StatisticsIntervalMilliseconds;
        Apply(consumerConfig, options.Client);

        // The loop subscribes to one topic, so results need no topic name (a string marshalled per record otherwise);
        // headers carry the route key and timestamps the event-time fallback.
        consumerConfig.ConsumeResultFields = "headers,timestamp";
        var restoreConfig = KafkaClientDefaults.ChangelogRestoreConsumer(options.BootstrapServers);
        Apply(restoreConfig, options.Client);

        // The restore and standby consumers join no group: a max.poll.interval.ms meant for the loop's consumer only
        // made librdkafka refuse to create them when it was below their session timeout's default (45 s), and the first
        // assignment stopped the worker.
        restoreConfig.MaxPollIntervalMs = null;
        restorer = new ChangelogRestorer(restoreConfig, options.TransactionTimeout + TimeSpan.FromSeconds(30));
        if (storeOptions.Standby)
        {
            // Started before the subscription: until the first assignment every partition is a standby, and the
            // assignment takes its partitions over from it.
            standby = new StandbyReader(restoreConfig, options.ChangelogTopic, options.InputTopic, StorePath, Status, logger);
            standby.Start();
        }

        producer = new ProducerBuilder<byte[], byte[]>(producerConfig)
            .SetLogHandler((_, m) => OnClientLog(m))
            .SetErrorHandler((_, e) => OnClientError(e))
            .SetStatisticsHandler((_, json) => metrics.ClientStatistics.Publish(json))
            .Build();
        producerName = producer.Name;
        sink = new KafkaRecordSink(producer, options, tap, producerConfig.MessageMaxBytes ?? DefaultMessageMaxBytes);
        Retry("initialise transactions", () => producer.InitTransactions(options.TransactionTimeout + TimeSpan.FromSeconds(5)));
        LogStarted(logger, transactionalId, options.InputTopic, options.GroupId);

        consumer = new ConsumerBuilder<byte[], byte[]>(consumerConfig)
            .SetLogHandler((_, m) => OnClientLog(m))
            .SetErrorHandler((_, e) => OnClientError(e))
            .SetStatisticsHandler((_, json) => metrics.ClientStatistics.Publish(json))
            .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((c, partitions) => OnRevoked(partitions))
            .SetPartitionsLostHandler((c, partitions) => OnLost(partitions))
            .Build();
        consumerName = consumer.Name;
        assignmentLost = AssignmentLostProbe(consumer);
        if (assignmentLost is null)
        {
            LogNoAssignmentLostProbe(logger);
        }

        consumer.Subscribe(options.InputTopic);
        Status.SetStarted(true);
        lagTimer = new Timer(_ => MeasureLag(), null, LagInterval, LagInterval);
        try
        {
            Loop();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Status.Fault = e;
            if (IsFencing(e))
            {
                LogFenced(logger, transactionalId, options.EffectiveInstanceId, string.IsNullOrWhiteSpace(options.InstanceId) ? " (the host name, since InstanceId is not set)" : string.Empty);
            }

            throw;
        }
        finally
        {
            StopLagTimer();
            standby?.Dispose();
            ended = true;
            Status.SetStarted(false);
            Status.SetJoined(false);
            AnswerPendingQueries();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        StopLagTimer();
        statusExport.Dispose();
        metrics.ClientStatistics.Forget(consumerName);
        metrics.ClientStatistics.Forget(producerName);
        if (!BoundedDisposal.Dispose(consumer, BoundedDisposal.DefaultBound))
        {
            LogDisposeAbandoned(logger, "consumer", BoundedDisposal.DefaultBound.TotalSeconds);
        }

        if (!BoundedDisposal.Dispose(producer, BoundedDisposal.DefaultBound))
        {
            LogDisposeAbandoned(logger, "producer", BoundedDisposal.DefaultBound.TotalSeconds);
        }

        standby?.Dispose();
        CloseStores([.. disks.Keys]);
        processor.Dispose();
    }

    private void Loop()
    {
        var consumer = this.consumer!;
        var commitTicks = (long)(options.CommitInterval.TotalSeconds * Stopwatch.Frequency);
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(options.CommitInterval.TotalMilliseconds / 4, 1, 100));
        while (!stopping.IsCancellationRequested)
        {
            AnswerQueries();
            if (toRestore.Count > 0)
            {
                try
                {
                    RestoreAssigned();
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    // Stopped during the restore: its partitions were never taken into service; leave the group below.
                    break;
                }
                catch (KafkaException e) when (!e.Error.IsFatal && e is not KafkaRetriableException)
                {
                    // The commit before the restore failed: as in the loop below.
                    AbortToRedo(e);
                }

                continue;
            }

            if (awaiting.Count > 0)
            {
                TakeUpAwaiting();
            }

            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = consumer.Consume(inTransaction ? UntilCommitDue(poll, commitTicks) : poll);
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                LogTransient(logger, "consume", e.Error.Reason);
                continue;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // A restore in a rebalance callback was cut short by shutdown (Consume rethrows callback exceptions).
                // Its partitions were never taken into service; leave the group cleanly below.
                break;
            }

            try
            {
                if (result is not null && !result.IsPartitionEOF && owned.TryGetValue(result.Partition.Value, out var partition))
                {
                    Process(result, partition);
                }
                else if (result is not null && !result.IsPartitionEOF)
                {
                    NotePassedBeforeRestore(result);
                }
                else if (result is null && !inTransaction)
                {
                    NotePassedOver(consumer);
                }

                if (inTransaction && (batchCount >= options.MaxBatchSize || Stopwatch.GetTimestamp() - batchStart >= CloseAfter(commitTicks)))
                {
                    Commit();
                }
            }
            catch (KafkaException e) when (!e.Error.IsFatal && e is not KafkaRetriableException)
            {
                AbortToRedo(e);
            }
        }

        if (inTransaction)
        {
            Commit();
        }

        // A clean stop leaves every local store checkpointed: the next start on this volume reads only what follows.
        Checkpoint([.. owned.Keys]);
        StopLagTimer();
        consumer.Close();
        if (inTransaction)
        {
            // Revocation during Close committed its partitions; anything left belongs to nobody now.
            Commit();
        }

        LogStopped(logger, Status.Processed, Status.Commits, lastCommitted switch
        {
            null => "no transaction was opened",
            true => "the last one committed, none is left open",
            false => "the last transaction was aborted, none is left open; the partitions' next owner processes its records",
        });
    }

    /// <summary>
    /// With nothing uncommitted and nothing to consume, notes how far the consumer has read each owned partition: what it
    /// passed over without delivering (transaction markers, aborted records) is not waiting to be processed.
    /// </summary>
    private void NotePassedOver(IConsumer<byte[], byte[]> consumer)
    {
        foreach (var partition in owned.Values)
        {
            long position;
            try
            {
                position = consumer.Position(partition.InputPartition).Value;
            }
            catch (KafkaException)
            {
                // Only a view for the lag: never a reason to abort.
                continue;
            }

            if (position > partition.CommittedOffset && position > Interlocked.Read(ref partition.PassedOver))
            {
                Interlocked.Exchange(ref partition.PassedOver, position);
            }
        }
    }

    /// <summary>
    /// The poll wait with an open transaction: no longer than until its commit is due, so a transaction whose input
    /// pauses still commits on time instead of up to one poll wait late.
    /// </summary>
    private TimeSpan UntilCommitDue(TimeSpan poll, long commitTicks)
    {
        var remaining = CloseAfter(commitTicks) - (Stopwatch.GetTimestamp() - batchStart);
        if (remaining <= 0)
        {
            return TimeSpan.Zero;
        }

        // Whole milliseconds, rounded up (the client waits in milliseconds; rounding down would spin).
        var milliseconds = Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency);
        return TimeSpan.FromMilliseconds(Math.Min(poll.TotalMilliseconds, milliseconds));
    }

    /// <summary>
    /// How long after its first record a transaction starts committing: the commit interval less the expected commit
    /// time (at most half the interval), so that a transaction, its commit included, stays open about the commit
    /// interval and the interval bounds how long an output waits to become visible.
    /// </summary>
    /// <remarks>
    /// Only while the worker keeps up: when the last commit ended with a transaction's worth of input or more waiting,
    /// outputs wait on the backlog rather than on the commit, and shorter transactions would only add commits.
    /// </remarks>
    private long CloseAfter(long commitTicks) => keepingUp ? commitTicks - Math.Min(commitEstimate, commitTicks / 2) : commitTicks;

    private void Process(ConsumeResult<byte[], byte[]> result, PartitionState partition)
    {
        if (!inTransaction)
        {
            producer!.BeginTransaction();
            inTransaction = true;
            transactionSequence++;
            foreach (var p in owned.Values)
            {
                p.Stamp = null;
            }
            batchStart = Stopwatch.GetTimestamp();
            batchCount = 0;
            this.sink!.ResetProduced();
            this.sink.LargestOutput = 0;
        }

        var message = result.Message;
        var value = message.Value ?? [];
        var source = new SourcePosition(options.InputTopic, result.Partition.Value, result.Offset.Value);
        partition.Stamp ??= NewStamp(result.Partition.Value);
        var sink = this.sink!;
        sink.TransactionStamp = partition.Stamp;
        sink.CurrentKey = message.Key;
        sink.CurrentValueIsNull = message.Value is null;
        // Outputs and dead letters carry the input record's time, as a CreateTime: a topic with
        // message.timestamp.type=LogAppendTime serves LogAppendTime timestamps, which a producer cannot send
        // (Confluent.Kafka throws for any type but CreateTime), and one without a time gets the producer's.
        sink.CurrentTimestamp = OutputTimestamp(message.Timestamp);
        sink.BeginRecord();

        // The key is the stream id, decoded strictly: two invalid keys must never become one stream.
        // UTF-8 never takes fewer bytes than UTF-16 chars: the key's length bounds the id's (stackalloc clears what it
        // reserves, so it is sized to the key rather than to the limit).
        Span<char> keyChars = stackalloc char[Math.Min(message.Key?.Length ?? 0, ChangelogKeys.MaxStreamIdBytes)];
        var keyLength = 0;
        string? keyProblem = null;
        if (message.Key is not { Length: > 0 })
        {
            // Without a key the producer's partitioner scatters a stream's records over partitions, and so its state: a
            // 'stream' field in the value cannot stand in for the key.
            processor.DeadLetter(DeadLetterReason.MissingKey, "record has no key: the Kafka key is the stream id (a 'stream' field in the value does not replace it).", source, value, sink);
        }
        else if (!ChangelogKeys.TryDecodeStreamId(message.Key, keyChars, out keyLength, out keyProblem))
        {
            processor.DeadLetter(DeadLetterReason.InvalidKey, keyProblem!, source, value, sink);
        }
        else
        {
            ReadOnlySpan<char> key = keyChars[..keyLength];
            var routeBytes = options.RouteHeader.Length > 0 && message.Headers is { } headers && headers.TryGetLastBytes(options.RouteHeader, out var bytes) ? bytes : null;
            Span<char> routeChars = stackalloc char[Math.Min(routeBytes?.Length ?? 0, 256)];
            scoped ReadOnlySpan<char> route = default;
            if (routeBytes is not null)
            {
                route = Encoding.UTF8.TryGetChars(routeBytes, routeChars, out var routeLength) ? routeChars[..routeLength] : Encoding.UTF8.GetString(routeBytes);
            }

            if (owned.Count > 1)
            {
                AdoptMovedStream(key, partition, result.Partition.Value);
            }

            var timestamp = message.Timestamp.Type == TimestampType.NotAvailable ? double.NaN : message.Timestamp.UnixTimestampMs;
            var (rejected, duplicates) = (processor.DeadLetters, processor.Duplicates);
            processor.ProcessEncoded(value, key, timestamp, route, source, partition.Store, sink);

            // Only a reading the processor took in is observed: a rejected one (under a stream id no state exists for, with
            // the wrong number of values, too late or too far ahead) or a dropped duplicate is no reading of the stream.
            var taken = processor.DeadLetters == rejected && processor.Duplicates == duplicates;
            if (sink.DroppedOutputs > 0)
            {
                processor.DeadLetter(
                    DeadLetterReason.OutputTooLarge,
                    string.Create(CultureInfo.InvariantCulture, $"{sink.DroppedOutputs} output record(s) of this record exceed the message size limit of {sink.OutputLimit} bytes (the largest is {sink.LargestDropped} bytes) and were not produced; the stream's state includes the record."),
                    source,
                    value,
                    sink,
                    processed: true);
            }

            if (taken)
            {
                inputTap?.Invoke(key, value, timestamp, result.Partition.Value);
            }
        }

        if (result.Offset.Value < partition.NextOffset)
        {
            // Only a reset position reads before where the restore resumed: the changelog's marker is past the input's end.
            LogResumedBeforeMarker(logger, result.Partition.Value, result.Offset.Value, partition.NextOffset);
        }

        partition.NextOffset = result.Offset.Value + 1;
        partition.Touched = true;
        batchCount++;
        Status.Processed++;
        metrics.Consumed(options.InputTopic);
    }

    /// <summary>
    /// The timestamp of the outputs of an input record with timestamp <paramref name="input"/>: its time as a CreateTime
    /// (the only type a producer may send), or none (the producer's clock) when the input has no time.
    /// </summary>
    private static Timestamp OutputTimestamp(Timestamp input) => input.Type switch
    {
        TimestampType.CreateTime => input,
        TimestampType.LogAppendTime => new Timestamp(input.UnixTimestampMs, TimestampType.CreateTime),
        _ => Timestamp.Default,
    };

    private byte[] NewStamp(int partition) => Encoding.UTF8.GetBytes($"{options.EffectiveInstanceId}/{incarnation}/{transactionSequence}/{partition}");

    /// <summary>
    /// Lets a stream's state follow its records to another input partition. Records of one stream id arrive on another
    /// partition when the input topic's partition count changed (producers place a key by its hash modulo the count),
    /// or when a producer chose the partition itself. When <paramref name="target"/> holds no state of the stream and
    /// another partition this instance owns does, the state moves: out of that partition's store (a tombstone in its
    /// changelog partition) and into this one's (its state in this changelog partition), both in the open transaction,
    /// so a commit moves it and an abort leaves it where it was. A state held by a partition another instance owns
    /// cannot move safely (its owner may still step it); the stream then starts again from its model's prior here.
    /// </summary>
    private void AdoptMovedStream(ReadOnlySpan<char> stream, PartitionState target, int targetPartition)
    {
        if (target.Store.TryGetLive(stream, out _) || target.Store.TryPeekEvicted(stream, out _))
        {
            return;
        }

        foreach (var (id, other) in owned)
        {
            if (ReferenceEquals(other, target) || !other.Store.TryRemove(stream, out var live, out var bytes))
            {
                continue;
            }

            // The old partition writes the stream's tombstone, and its offset marker after it, with this transaction.
            other.Touched = true;
            other.Stamp ??= NewStamp(id);
            var streamId = stream.ToString();
            string? reason = null;
            var state = live ?? processor.Decode(streamId, bytes!, out reason);
            if (state is null)
            {
                LogDiscarded(logger, streamId, reason ?? "unknown", id);
                return;
            }

            state.Dirty = true;
            target.Store.Put(state);
            metrics.StreamMoved();
            movedStreams++;
            if (movedStreams <= LoggedMovedStreams)
            {
                LogStreamMoved(logger, streamId, id, targetPartition);
            }
            else if (movedStreams == LoggedMovedStreams + 1)
            {
                LogStreamsMovedQuiet(logger, LoggedMovedStreams);
            }

            return;
        }
    }

    private void Commit()
    {
        if (!inTransaction)
        {
            return;
        }

        if (AbortIfAssignmentLost())
        {
            return;
        }

        using var activity = KafkaTransportMetrics.ActivitySource.StartActivity("streamseq.commit");
        var start = Stopwatch.GetTimestamp();
        var producer = this.producer!;
        var sink = this.sink!;
        // Everything the sink produced so far in this transaction is an output or a dead letter; what follows is the
        // changelog (states actually produced, and the tombstone that replaces a state too large for the producer).
        var producedBeforeChangelog = sink.Produced;
        long changelogRecords = 0;
        var offsets = new List<TopicPartitionOffset>();
        foreach (var (id, partition) in owned)
        {
            if (!partition.Touched)
            {
                continue;
            }

            var target = partition.ChangelogPartition;
            sink.TransactionStamp = partition.Stamp;
            partition.Unpersisted?.Clear();

            // First the committed state of every stream whose records after the newest marker restore ignored: written
            // before this marker, it supersedes them, so that the marker can never make them count (ChangelogRestorer).
            if (partition.Rewrites is { } rewrites)
            {
                foreach (var (stream, committedState) in rewrites)
                {
                    if (committedState is null)
                    {
                        sink.ProduceTombstone(target, stream);
                        partition.Disk?.StageDelete(stream);
                    }
                    else
                    {
                        WriteState(partition, stream, committedState);
                    }

                    changelogRecords++;
                }
            }

            // Streams whose records now arrive on another partition, which took their state over in this transaction.
            foreach (var stream in partition.Store.Removed)
            {
                sink.ProduceTombstone(target, stream);
                partition.Disk?.StageDelete(stream);
                changelogRecords++;
            }

            foreach (var stream in partition.Store.DirtyStreams)
            {
                // One reusable encoding buffer; the sink copies it into a reused exact-size array for the producer.
                stateBuffer.ResetWrittenCount();
                StreamStateCodec.Write(stream, stateBuffer);
                WriteState(partition, stream.StreamId, stateBuffer.WrittenSpan);

                changelogRecords++;
            }

            // Streams evicted with changes since the last commit: their serialised state is what this transaction commits.
            foreach (var (stream, evictedState) in partition.Store.DirtyEvicted)
            {
                WriteState(partition, stream, evictedState);

                changelogRecords++;
            }

        }

        try
        {
            if (!BrokerIsolatesTransactions())
            {
                // Without isolation a marker makes its transaction count as soon as it is on the broker, so it must not
                // get there before the transaction's outputs do: an instance killed in between would leave outputs that
                // never arrive behind a marker that says they did, and its successor would resume after their input.
                AwaitDelivery(producer, stoppable: false);
                if (producer.Flush(TimeSpan.Zero) > 0)
                {
                    LogAbort(logger, $"records not acknowledged within the transaction timeout ({options.TransactionTimeout}); no offset marker written");
                    AbortAndRewind();
                    return;
                }
            }

            foreach (var (id, partition) in owned)
            {
                if (!partition.Touched)
                {
                    continue;
                }

                // The marker goes last: restore counts this transaction's states only once a marker follows them.
                sink.TransactionStamp = partition.Stamp;
                sink.ProduceCopy(partition.ChangelogPartition, partition.OffsetKey, ChangelogKeys.OffsetValue(partition.NextOffset), default);
                changelogRecords++;
                offsets.Add(new TopicPartitionOffset(options.InputTopic, id, partition.NextOffset));
            }

            if (offsets.Count > 0 && options.CommitGroupOffsets)
            {
                Retry("send offsets", () => producer.SendOffsetsToTransaction(offsets, consumer!.ConsumerGroupMetadata, options.TransactionTimeout));
            }

            AwaitDelivery(producer);

            // Checked again after the wait: on a broker that hides aborted records the abort still takes the marker back.
            if (AbortIfAssignmentLost())
            {
                return;
            }

            Retry("commit transaction", () => producer.CommitTransaction(options.TransactionTimeout));
        }
        catch (KafkaTxnRequiresAbortException e) when (MayRedo(e))
        {
            LogAbort(logger, e.Error.Reason);
            AbortAndRewind();
            return;
        }

        inTransaction = false;
        lastCommitted = true;
        consecutiveAborts = 0;
        foreach (var (id, partition) in owned)
        {
            if (partition.Touched)
            {
                partition.Rewrites = null;
                partition.CommittedOffset = partition.NextOffset;
                if (partition.Disk is { } disk)
                {
                    // The transaction committed: its states (and, when due, the checkpoint) go to the local store in one
                    // atomic batch. A crash before it loses only the local copy; the restart reads the changelog from the
                    // older checkpoint, which holds them.
                    storeFault.BeforeStoreWrite();
                    var checkpoint = Stopwatch.GetTimestamp() - disk.CheckpointedAt >= checkpointTicks ? TakeCheckpoint(id, partition) : null;
                    disk.Apply(checkpoint);
                    storeFault.AfterStoreWrite(checkpoint is not null);
                }

                // A stream whose state this transaction could not write left the changelog and the disk store with it:
                // it leaves memory too, so that its next record starts it from its model's prior, as a restart would.
                if (partition.Unpersisted is { Count: > 0 } unpersisted)
                {
                    foreach (var stream in unpersisted)
                    {
                        partition.Store.TryRemove(stream, out _, out _);
                    }

                    unpersisted.Clear();
                }

                partition.Store.ClearDirty();
                partition.Touched = false;
            }
        }

        // Expected commit time: recent commits' longest, decaying by a tenth per commit (tracks the slow commits that
        // set the latency tail, and forgets a one-off stall within a few dozen transactions).
        var took = Stopwatch.GetTimestamp() - start;
        commitEstimate = Math.Max(took, commitEstimate - (commitEstimate / 10));
        metrics.Committed(Stopwatch.GetElapsedTime(start).TotalSeconds);
        metrics.Produced(options.ChangelogTopic, sink.Produced - producedBeforeChangelog);
        for (var target = 0; target < KafkaRecordSink.TargetCount; target++)
        {
            metrics.Produced(sink.ProducedTopic(target), sink.ProducedByTarget[target]);
        }

        Status.Commits++;
        Status.LastCommit = DateTimeOffset.UtcNow;
        Status.MarkProgress();
        CountStreams();
        MeasureLag();
        keepingUp = Status.OwnedLag < batchCount;
        Status.Alerts = processor.Alerts;
        Status.DeadLetters = processor.DeadLetters;
        Status.Duplicates = processor.Duplicates;
        activity?.SetTag("streamseq.records", batchCount);
        activity?.SetTag("streamseq.changelog.records", changelogRecords);
    }

    /// <summary>
    /// Aborts the open transaction (and rewinds) instead of committing it when librdkafka says the group took this
    /// member's partitions away (its session expired, it was fenced, or it left the group after max.poll.interval.ms
    /// without a poll) and the loss has not reached the loop yet (a rebalance callback inside <c>Consume</c>). Their next
    /// owner restored them without this transaction and processes its records again: committed, its outputs would count
    /// twice on a broker that does not fence this instance, which is the embedded one always and Apache Kafka without
    /// the group metadata sent with the offsets (<c>CommitGroupOffsets=false</c>). It is checked before the changelog
    /// records are written because on the embedded broker a marker that reached the changelog counts even when its
    /// transaction aborts.
    /// </summary>
    /// <remarks>
    /// The loss is known once the group coordinator said so: a loop that stalled while the whole process did (a pause,
    /// CPU starvation past the session timeout) can still reach its commit before the coordinator's answer, which only
    /// the broker's fencing closes. A loop that stalled alone is covered: librdkafka leaves the group for it after
    /// max.poll.interval.ms and marks the assignment lost before the group can move it.
    /// </remarks>
    private bool AbortIfAssignmentLost()
    {
        if (assignmentLost is not { } lost || !lost())
        {
            return false;
        }

        LogAssignmentLostAtCommit(logger);
        AbortAndRewind();
        return true;
    }

    /// <summary>
    /// librdkafka's <c>rd_kafka_assignment_lost</c> for <paramref name="consumer"/>, which Confluent.Kafka exposes only
    /// internally (the rebalance handler's "lost" flag); null when this Confluent.Kafka version does not have it.
    /// </summary>
    private static Func<bool>? AssignmentLostProbe(IConsumer<byte[], byte[]> consumer)
    {
        try
        {
            var handle = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(consumer.Handle);
            var getter = handle?.GetType().GetProperty("AssignmentLost", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetMethod;
            return handle is not null && getter is not null && getter.ReturnType == typeof(bool) ? getter.CreateDelegate<Func<bool>>(handle) : null;
        }
        catch (Exception e) when (e is TargetInvocationException or ArgumentException or MemberAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits until the transaction's records are acknowledged, in steps of about a millisecond. CommitTransaction
    /// flushes first as well, but without delivery reports nothing wakes its flush, which then re-checks only every
    /// 10 ms: a commit would take at least 10 ms however fast the broker acknowledged. Each zero-timeout flush also
    /// sends what is lingering at once. Gives up after the transaction timeout and leaves the rest (and any delivery
    /// error) to CommitTransaction.
    /// </summary>
    /// <param name="producer">The transactional producer.</param>
    /// <param name="stoppable">Whether a stop ends the wait early (CommitTransaction then waits for the rest).</param>
    private void AwaitDelivery(IProducer<byte[], byte[]> producer, bool stoppable = true)
    {
        var start = Stopwatch.GetTimestamp();
        while (producer.Flush(TimeSpan.Zero) > 0 && Stopwatch.GetElapsedTime(start) < options.TransactionTimeout && !(stoppable && stopping.IsCancellationRequested))
        {
            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// Whether the broker hides records of transactions that never committed, asked once: Apache Kafka does, the
    /// embedded broker (librdkafka's mock cluster, known by its cluster id) does not. Until the broker answers, the
    /// answer is no, the safe side (markers wait for the other records); after a failed question the next is a minute
    /// later, so that commits do not each wait for an unanswered one.
    /// </summary>
    private bool BrokerIsolatesTransactions()
    {
        if (brokerIsolates is { } known)
        {
            return known;
        }

        if (brokerAskFailedAt != 0 && Stopwatch.GetElapsedTime(brokerAskFailedAt) < TimeSpan.FromMinutes(1))
        {
            return false;
        }

        try
        {
            brokerIsolates = !CommittedReader.IsEmbeddedBroker(options.BootstrapServers, [.. options.Client], TimeSpan.FromSeconds(10));
            if (brokerIsolates == false)
            {
                LogMarkersAfterRecords(logger);
            }

            return brokerIsolates.Value;
        }
        catch (InvalidOperationException)
        {
            brokerAskFailedAt = Stopwatch.GetTimestamp();
            return false;
        }
    }

    private List<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        // The standby closes these partitions' stores (what counts written, with its checkpoint) before they open here.
        standby?.Release(partitions.Select(tp => tp.Partition.Value), stopping);

        // A partition added to the input topic while the changelog kept its partition count has nowhere to keep its
        // states and offsets: it waits, paused, until the changelog has its partition (looked up again in the loop).
        var lacking = LackingChangelog([.. partitions.Select(tp => tp.Partition.Value)]);

        // The others are restored by the loop, not here: a callback that runs longer than max.poll.interval.ms keeps the
        // member from rejoining a rebalance, and the group removes it (see toRestore). Records the consumer hands out for
        // them before the loop pauses them are not processed (no partition state takes them), and the seek after the
        // restore reads them again.
        foreach (var partition in partitions.Select(tp => tp.Partition.Value).Where(p => !lacking.Contains(p)))
        {
            ScheduleRestore(partition, atBeginning: false);
        }

        if (lacking.Count > 0)
        {
            Await(lacking);
        }

        OwnedChanged();

        // An assignment, even an empty one, means the group has taken this member in; ready once restored.
        Status.SetJoined(true);
        return [.. partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Stored))];
    }

    /// <summary>
    /// Of <paramref name="partitions"/>, those the changelog topic has no partition for (all of them when the topic does
    /// not exist); none when the broker does not say (the restore then finds out itself).
    /// </summary>
    private HashSet<int> LackingChangelog(List<int> partitions)
    {
        if (partitions.Count == 0 || PartitionCount(options.ChangelogTopic) is not int count)
        {
            return [];
        }

        return [.. partitions.Where(p => p >= count)];
    }

    /// <summary>A topic's partition count from the broker's metadata (0: no such topic; null: no answer).</summary>
    private int? PartitionCount(string topic)
    {
        try
        {
            using var admin = new DependentAdminClientBuilder(consumer!.Handle).Build();
            var metadata = admin.GetMetadata(topic, ChangelogMetadataTimeout).Topics.FirstOrDefault(t => t.Topic == topic);
            return metadata?.Error.Code switch
            {
                null => null,
                ErrorCode.NoError => metadata.Partitions.Count,
                ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownTopic => 0,
                _ => null,
            };
        }
        catch (KafkaException e)
        {
            LogTransient(logger, "the changelog's metadata look-up", e.Error.Reason);
            return null;
        }
    }

    /// <summary>Puts assigned partitions without a changelog partition on hold, with one line each saying what to do.</summary>
    private void Await(HashSet<int> partitions)
    {
        var changelogPartitions = PartitionCount(options.ChangelogTopic) ?? 0;
        var needed = Math.Max(PartitionCount(options.InputTopic) ?? 0, partitions.Max() + 1);
        foreach (var partition in partitions.Order())
        {
            awaiting.Add(partition);
            LogAwaitingChangelog(logger, partition, options.InputTopic, options.ChangelogTopic, changelogPartitions, options.ChangelogTopic, needed, ChangelogLookupInterval.TotalSeconds);
        }

        pauseAwaiting = true;
        nextChangelogLookup = Stopwatch.GetTimestamp() + (long)(ChangelogLookupInterval.TotalSeconds * Stopwatch.Frequency);
        Status.SetAwaitingChangelog(awaiting);
        MeasureAwaitingLag();
    }

    /// <summary>
    /// Counts the records of the partitions waiting for their changelog partition into the lag: all of each partition
    /// from its start (one without a changelog partition has no committed position, and is processed from its beginning
    /// once the changelog has it), from the broker's watermarks. A partition whose look-up fails keeps its last count.
    /// </summary>
    private void MeasureAwaitingLag()
    {
        long lag = 0;
        foreach (var partition in awaiting)
        {
            try
            {
                var watermarks = consumer!.QueryWatermarkOffsets(new TopicPartition(options.InputTopic, partition), AwaitingWatermarkTimeout);
                if (watermarks.High.Value >= 0)
                {
                    awaitingCounts[partition] = Math.Max(0, watermarks.High.Value - Math.Max(0, watermarks.Low.Value));
                }
            }
            catch (KafkaException e)
            {
                LogTransient(logger, "the watermark look-up of a partition waiting for its changelog partition", e.Error.Reason);
            }

            lag += awaitingCounts.GetValueOrDefault(partition);
        }

        foreach (var gone in awaitingCounts.Keys.Where(p => !awaiting.Contains(p)).ToList())
        {
            awaitingCounts.Remove(gone);
        }

        Interlocked.Exchange(ref awaitingLag, lag);
        MeasureLag();
    }

    /// <summary>
    /// Pauses partitions that wait for their changelog partition (once assigned), and looks the changelog up again at
    /// most every <see cref="ChangelogLookupInterval"/>: partitions whose changelog partition now exists go to the loop's
    /// restore (<see cref="RestoreAssigned"/>), which seeks them to where their changelog says the committed input ends
    /// (their beginning without a marker) and resumes them. Records the consumer handed out before the pause were not
    /// processed (no partition state takes them), and the seek reads them again.
    /// </summary>
    private void TakeUpAwaiting()
    {
        var consumer = this.consumer!;
        if (pauseAwaiting)
        {
            consumer.Pause(awaiting.Select(p => new TopicPartition(options.InputTopic, p)).ToList());
            pauseAwaiting = false;
        }

        if (Stopwatch.GetTimestamp() < nextChangelogLookup)
        {
            return;
        }

        nextChangelogLookup = Stopwatch.GetTimestamp() + (long)(ChangelogLookupInterval.TotalSeconds * Stopwatch.Frequency);
        if (PartitionCount(options.ChangelogTopic) is not int count)
        {
            MeasureAwaitingLag();
            return;
        }

        var ready = awaiting.Where(p => p < count).Order().ToList();
        if (ready.Count == 0)
        {
            MeasureAwaitingLag();
            return;
        }

        awaiting.ExceptWith(ready);
        Status.SetAwaitingChangelog(awaiting);
        MeasureAwaitingLag();
        foreach (var partition in ready)
        {
            ScheduleRestore(partition, atBeginning: true);
            LogChangelogFound(logger, partition, options.ChangelogTopic);
        }
    }

    /// <summary>
    /// Notes an assigned partition for the loop's restore (<see cref="RestoreAssigned"/>); with
    /// <paramref name="atBeginning"/>, it resumes at its beginning when the changelog holds no offset marker.
    /// </summary>
    private void ScheduleRestore(int partition, bool atBeginning)
    {
        toRestore.Add(partition);
        if (atBeginning)
        {
            resumeAtBeginning.Add(partition);
        }

        if (!restorePending)
        {
            restorePending = true;
            Status.BeginRestore();
        }
    }

    /// <summary>
    /// Restores the assigned partitions of <see cref="toRestore"/> with every assigned partition paused, polling the group
    /// consumer between the restore's reads (<see cref="KeepPolling"/>), then seeks each to where its changelog says the
    /// committed input ends and resumes. Rebalance callbacks run in those polls: a partition revoked or lost meanwhile is
    /// dropped when the restore ends, one assigned meanwhile is restored next.
    /// </summary>
    private void RestoreAssigned()
    {
        var consumer = this.consumer!;

        // The open transaction commits first, so that the restore is the only thing between two transactions.
        if (inTransaction)
        {
            Commit();
            if (inTransaction)
            {
                return;
            }
        }

        consumer.Pause(consumer.Assignment);
        var partitions = toRestore.Order().ToList();
        toRestore.Clear();
        restoring = [.. partitions];
        cancelledRestore.Clear();
        Dictionary<int, Offset>? offsets = null;
        try
        {
            offsets = RestorePartitions(partitions, KeepPolling);
        }
        finally
        {
            restoring = [];
            if (offsets is null)
            {
                // Cut short: what was not revoked meanwhile is restored again at the next turn.
                foreach (var partition in partitions.Where(p => !cancelledRestore.Contains(p)))
                {
                    owned.Remove(partition);
                    toRestore.Add(partition);
                }
            }
        }

        if (cancelledRestore.Count > 0)
        {
            int[] cancelled = [.. cancelledRestore];
            foreach (var partition in cancelled)
            {
                owned.Remove(partition);
                offsets.Remove(partition);
            }

            CloseStores(cancelled);
            ownership?.Released(cancelled);

            // One assigned again meanwhile stays with this loop (restored next); the others go back to the standby.
            standby?.Mirror(cancelled.Where(p => !toRestore.Contains(p)));
            cancelledRestore.Clear();
        }

        foreach (var (partition, offset) in offsets)
        {
            // Without a marker a newly assigned partition's consumer started where the assignment put it (the group's
            // committed offset, or the beginning): it stays there, or goes back to the first record the loop passed over.
            // (Asking the broker for the committed offset instead blocked the loop, unpolled, through a rebalance.) A
            // rewound partition, or one that waited for its changelog partition, goes back to its beginning.
            if (offset != Offset.Stored)
            {
                consumer.Seek(new TopicPartitionOffset(options.InputTopic, partition, offset));
            }
            else if (resumeAtBeginning.Contains(partition))
            {
                consumer.Seek(new TopicPartitionOffset(options.InputTopic, partition, Offset.Beginning));
            }
            else if (passedBeforeRestore.TryGetValue(partition, out var first))
            {
                consumer.Seek(new TopicPartitionOffset(options.InputTopic, partition, first));
            }

            passedBeforeRestore.Remove(partition);
            resumeAtBeginning.Remove(partition);
        }

        consumer.Resume([.. consumer.Assignment.Where(tp => !awaiting.Contains(tp.Partition.Value) && !toRestore.Contains(tp.Partition.Value))]);
        OwnedChanged();
        EndRestoreIfDone();
    }

    /// <summary>
    /// Polls the group consumer during a restore (every assigned partition paused), so that librdkafka sees the
    /// application poll within <c>max.poll.interval.ms</c> and serves rebalances. A record fetched before the pause is
    /// not processed: its partition is sought back to it.
    /// </summary>
    private void KeepPolling()
    {
        try
        {
            var result = consumer!.Consume(TimeSpan.Zero);
            if (result is not null && !result.IsPartitionEOF && owned.ContainsKey(result.Partition.Value))
            {
                consumer.Seek(new TopicPartitionOffset(options.InputTopic, result.Partition, result.Offset));
            }
            else if (result is not null && !result.IsPartitionEOF)
            {
                NotePassedBeforeRestore(result);
            }
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            LogTransient(logger, "consume", e.Error.Reason);
        }
    }

    private void NotePassedBeforeRestore(ConsumeResult<byte[], byte[]> result)
    {
        if ((toRestore.Contains(result.Partition.Value) || restoring.Contains(result.Partition.Value)) && !passedBeforeRestore.ContainsKey(result.Partition.Value))
        {
            passedBeforeRestore[result.Partition.Value] = result.Offset.Value;
        }
    }

    private void EndRestoreIfDone()
    {
        if (restorePending && toRestore.Count == 0 && restoring.Count == 0)
        {
            restorePending = false;
            Status.EndRestore();
        }
    }

    /// <summary>
    /// Takes <paramref name="partitions"/> out of the restore pending or running; returns those the running restore is
    /// reading, whose stores it still writes (closed once it ends).
    /// </summary>
    private HashSet<int> CancelRestore(IEnumerable<int> partitions)
    {
        var midRestore = new HashSet<int>();
        foreach (var partition in partitions)
        {
            toRestore.Remove(partition);
            passedBeforeRestore.Remove(partition);
            resumeAtBeginning.Remove(partition);
            if (restoring.Remove(partition))
            {
                cancelledRestore.Add(partition);
                midRestore.Add(partition);
            }
        }

        EndRestoreIfDone();
        return midRestore;
    }

    private void OnRevoked(List<TopicPartitionOffset> partitions)
    {
        // Commit everything processed so far, so the next owner restores exactly this state.
        if (inTransaction)
        {
            Commit();
        }

        // Still the owner: the changelog holds nothing this store lacks, so the next owner on this volume reads only what
        // follows (a partition that comes back after moving reads what the others wrote since).
        var all = partitions.Select(tp => tp.Partition.Value).ToList();
        var midRestore = CancelRestore(all);
        var revoked = all.Where(p => !midRestore.Contains(p)).ToList();
        DropAwaiting(all);
        Checkpoint(revoked);
        foreach (var p in all)
        {
            owned.Remove(p);
        }

        CloseStores(revoked);
        ownership?.Released(revoked);

        // The store stays on this volume and is kept warm: if the partition comes back, it reads only the tail.
        standby?.Mirror(revoked);
        OwnedChanged();
        LogRevoked(logger, Describe(partitions));
    }

    /// <summary>
    /// Partitions as <c>topic [0] @15227, topic [1]</c> (no offset when it is none): <see cref="TopicPartitionOffset"/>'s
    /// own text puts the partition's brackets inside its own (<c>topic [[0]] @15227</c>).
    /// </summary>
    private static string Describe(List<TopicPartitionOffset> partitions) =>
        string.Join(", ", partitions.Select(p => p.Offset.IsSpecial
            ? string.Create(CultureInfo.InvariantCulture, $"{p.Topic} [{p.Partition.Value}]")
            : string.Create(CultureInfo.InvariantCulture, $"{p.Topic} [{p.Partition.Value}] @{p.Offset.Value}")));

    private void OnLost(List<TopicPartitionOffset> partitions)
    {
        foreach (var tp in partitions)
        {
            owned.Remove(tp.Partition.Value);
        }

        // No checkpoint: another instance may already own these partitions and write to their changelog.
        var midRestore = CancelRestore(partitions.Select(tp => tp.Partition.Value));
        int[] lost = [.. partitions.Select(tp => tp.Partition.Value).Where(p => !midRestore.Contains(p))];
        DropAwaiting(lost);
        CloseStores(lost);
        ownership?.Released(lost);
        standby?.Mirror(lost);
        OwnedChanged();
        Status.SetJoined(false);
        LogLost(logger, string.Join(",", partitions.Select(p => p.Partition.Value)));
        if (inTransaction)
        {
            AbortAndRewind();
        }
    }

    /// <summary>Forgets partitions that waited for their changelog partition and are no longer assigned.</summary>
    private void DropAwaiting(IEnumerable<int> partitions)
    {
        if (awaiting.Count > 0)
        {
            awaiting.ExceptWith(partitions);
            Status.SetAwaitingChangelog(awaiting);
            MeasureAwaitingLag();
        }
    }

    private void AbortAndRewind()
    {
        foreach (var disk in disks.Values)
        {
            // The disk store holds committed states only: what the aborted transaction staged goes.
            disk.DiscardStaged();
        }

        if (inTransaction)
        {
            Retry("abort transaction", () => producer!.AbortTransaction(options.TransactionTimeout));
            inTransaction = false;
            lastCommitted = false;
            metrics.Aborted();
            Status.Aborts++;
        }

        Rewind();
    }

    /// <summary>
    /// Restores <paramref name="partitions"/> from the changelog into new partition states, calling
    /// <paramref name="keepAlive"/> between the restore's reads and between partitions; returns per partition where its
    /// committed input ends (<see cref="Offset.Stored"/>: no marker). Only <see cref="RestoreAssigned"/> calls it, so that
    /// every restore polls the group consumer.
    /// </summary>
    private Dictionary<int, Offset> RestorePartitions(List<int> partitions, Action keepAlive)
    {
        using var activity = KafkaTransportMetrics.ActivitySource.StartActivity("streamseq.restore");
        Status.BeginRestore();
        try
        {
            var start = Stopwatch.GetTimestamp();
            var checkpoints = storeOptions.Kind == StateStoreKind.RocksDb ? OpenStores(partitions) : [];
            var from = checkpoints.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!.ChangelogOffset);
            var restored = restorer!.Restore(options.ChangelogTopic, options.InputTopic, partitions, stopping, from, disks.Count > 0 ? RestoreInto : null, keepAlive);
            var offsets = new Dictionary<int, Offset>();
            long streams = 0, fromChangelog = 0, fromStores = 0;
            var estimated = false;
            var listed = ownership?.MaxStreamsPerPartition ?? 0;
            foreach (var (partition, result) in restored)
            {
                keepAlive();
                StateStore store;
                var kept = 0;
                long? nextOffset = result.NextOffset;
                PartitionStore? disk = null;
                List<OwnedStream>? owners = listed > 0 ? [] : null;
                if (disks.TryGetValue(partition, out disk))
                {
                    var checkpoint = checkpoints.GetValueOrDefault(partition);
                    nextOffset = ApplyRestore(partition, disk, result, checkpoint);
                    store = StateStore.Caching(partition, disk, CacheShare(partitions.Count));

                    // The store now holds every stream of the partition: those it kept and those the changelog's tail added.
                    var total = disk.CountStreams(CountedStoreStreams, out var exact);
                    estimated |= !exact;
                    streams += total;
                    var read = result.States.Count + result.DirectRecords;
                    fromChangelog += read;
                    fromStores += Math.Max(0, total - read);
                    if (owners is not null)
                    {
                        try
                        {
                            foreach (var (id, bytes) in disk.States(listed))
                            {
                                AddOwned(owners, partition, processor.Decode(id, bytes, out _));
                            }
                        }
                        catch (RocksDbSharp.RocksDbException)
                        {
                            // Only the listing is short: a damaged block fails the stream's next read, which handles it.
                        }
                    }

                    LogStoreRestoredStreams(logger, partition, Count(total, "stream", exact), Count(read, "state"), Count(result.Records, "changelog record"), result.StartOffset, Count(result.Ignored, "record"), Count(result.Rewrites.Count, "stream"), Count(result.MostHeld, "state"), Resume(nextOffset));
                }
                else
                {
                    store = new StateStore(partition, processorOptions.MaxLiveStreams);
                    var applied = 0;
                    foreach (var (id, bytes) in result.States)
                    {
                        if (++applied % RestoreBatch == 0)
                        {
                            keepAlive();
                        }

                        if (processor.Restore(store, id, bytes, out var reason))
                        {
                            kept++;
                            if (owners is not null && owners.Count < listed)
                            {
                                // An evicted stream is read again from its bytes, without reviving it.
                                AddOwned(owners, partition, store.TryGetLive(id, out var live) ? live : processor.Decode(id, bytes, out _));
                            }
                        }
                        else
                        {
                            LogDiscarded(logger, id, reason ?? "unknown", partition);
                        }
                    }

                    streams += kept;
                    fromChangelog += kept;
                    LogRestored(logger, partition, Count(kept, "stream"), Count(result.Records, "changelog record"), result.Ignored, Count(result.Rewrites.Count, "stream"), Resume(nextOffset));
                }

                if (owners is not null)
                {
                    ownership!.Restored(partition, owners);
                }

                owned[partition] = new PartitionState(store, ChangelogKeys.OffsetKey(options.InputTopic, partition), new TopicPartition(options.ChangelogTopic, partition), new TopicPartition(options.InputTopic, partition))
                {
                    NextOffset = nextOffset ?? -1,
                    CommittedOffset = nextOffset ?? -1,
                    Rewrites = result.Rewrites.Count > 0 ? result.Rewrites : null,
                    Disk = disk,
                };

                // No marker yet: start from the group's committed offset (or the beginning).
                offsets[partition] = nextOffset is long o ? new Offset(o) : Offset.Stored;
                if (result.MalformedMarkers > 0)
                {
                    LogMalformedMarkers(logger, partition, result.MalformedMarkers);
                }

                if (result.FirstForeignMarker is var (foreignAt, foreignKey))
                {
                    LogForeignMarkers(logger, partition, result.ForeignMarkers, foreignAt, foreignKey, ChangelogKeys.KeyText(ChangelogKeys.OffsetKey(options.InputTopic, partition)));
                }

                if (result.FirstInvalidKey is var (invalidAt, invalidProblem))
                {
                    LogInvalidChangelogKeys(logger, partition, result.InvalidKeys, invalidAt, invalidProblem);
                }

                if (disk is not null)
                {
                    LogStoreRestored(logger, partition, result.StartOffset, result.StartedOver, disk.Path);
                }
            }

            OwnedChanged();

            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            metrics.Restored(streams, elapsed / 1000);
            if (disks.Count > 0)
            {
                LogRestoreDoneWithStores(logger, Count(partitions.Count, "partition"), Count(streams, "stream", !estimated), Count(fromChangelog, "state"), Count(fromStores, "state", !estimated), elapsed);
            }
            else
            {
                LogRestoreDone(logger, Count(partitions.Count, "partition"), Count(streams, "stream"), elapsed);
            }

            activity?.SetTag("streamseq.partitions", partitions.Count);
            activity?.SetTag("streamseq.streams", streams);
            return offsets;
        }
        finally
        {
            Status.MarkProgress();
            Status.EndRestore();
        }
    }

    /// <summary>"1 stream", "3 streams": a count and its noun (singular only for 1), as the restore lines say them.</summary>
    private static string Count(long n, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{n} {noun}{(n == 1 ? string.Empty : "s")}");

    /// <summary><see cref="Count(long, string)"/>, or RocksDB's estimate when the count is not exact.</summary>
    private static string Count(long n, string noun, bool exact) => exact
        ? Count(n, noun)
        : string.Create(CultureInfo.InvariantCulture, $"about {n} (RocksDB's estimate) {noun}s");

    private static string Resume(long? nextOffset) => nextOffset is { } next
        ? string.Create(CultureInfo.InvariantCulture, $"offset {next}")
        : "the group's committed offset, or the partition's beginning (no offset marker in the changelog)";

    /// <summary>Adds what a restored state says of its stream (nothing for a state its models cannot read).</summary>
    private static void AddOwned(List<OwnedStream> owners, int partition, StreamState? state)
    {
        if (state is not null)
        {
            owners.Add(new OwnedStream(state.StreamId, state.Model.Name, partition, state.Steps, state.Steps > 0 ? state.LastTime : new RecordTime(double.NaN, state.LastTime.Format), state.Gate.TotalAlerts));
        }
    }

    /// <summary>
    /// Opens the disk stores of <paramref name="partitions"/> (those still open after an abort are reused, with nothing
    /// staged) and reads their checkpoints; a checkpoint of another input topic does not count.
    /// </summary>
    private Dictionary<int, StoreCheckpoint?> OpenStores(IReadOnlyCollection<int> partitions)
    {
        var checkpoints = new Dictionary<int, StoreCheckpoint?>();
        foreach (var partition in partitions)
        {
            if (!disks.TryGetValue(partition, out var disk))
            {
                disk = PartitionStore.Open(StorePath(partition));
                if (disk.Damaged is { } damage)
                {
                    LogStoreDamaged(logger, partition, disk.Path, damage);
                }

                disks[partition] = disk;
            }

            disk.DiscardStaged();
            var checkpoint = disk.ReadCheckpoint();
            checkpoints[partition] = checkpoint is not null && checkpoint.InputTopic == options.InputTopic ? checkpoint : null;
        }

        return checkpoints;
    }

    private string StorePath(int partition) => Path.Combine(
        storeOptions.Directory,
        SafeName(options.GroupId),
        SafeName(options.EffectiveInstanceId),
        SafeName(string.Create(CultureInfo.InvariantCulture, $"{options.ChangelogTopic}-{partition}")));

    private static string SafeName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var chars = name.Select(c => invalid.Contains(c) || c is '/' or '\\' ? '_' : c).ToArray();
        var safe = new string(chars);
        return safe is "" or "." or ".." ? "_" + safe : safe;
    }

    /// <summary>
    /// The disk store of <paramref name="partition"/> as the restore's destination: the changelog's counting records go
    /// to it as they are read, in batches of <see cref="RestoreBatch"/>, so that a restore holds only a batch in memory
    /// however many streams the partition has. Read from the beginning, the store is cleared first, checkpoint
    /// included, in a batch of its own: a restore cut short (a crash) then restarts from the beginning too, and the
    /// store only ever holds committed states newer than its checkpoint.
    /// </summary>
    private Action<string, byte[]>? RestoreInto(int partition, bool fromTheBeginning)
    {
        if (!disks.TryGetValue(partition, out var disk))
        {
            return null;
        }

        if (fromTheBeginning)
        {
            disk.StageClear();
            disk.Apply(null);
        }

        return (stream, state) =>
        {
            disk.StageRecord(stream, state);
            if (disk.Staged >= RestoreBatch)
            {
                disk.Apply(null);
                storeFault.AfterRestoreBatch();
            }
        };
    }

    /// <summary>
    /// Brings a disk store up to the changelog: the states that count among the records read go in, tombstoned ones go,
    /// and the checkpoint moves to just after the newest marker read (records after it may belong to a transaction still
    /// to be superseded, so the next restore must read them again). Without a usable checkpoint the whole partition was
    /// read and the store is rebuilt from it. Returns the input offset to resume at.
    /// </summary>
    private long? ApplyRestore(int partition, PartitionStore disk, ChangelogRestorer.Result result, StoreCheckpoint? checkpoint)
    {
        var fromCheckpoint = checkpoint is not null && !result.StartedOver;
        if (!fromCheckpoint && !result.Direct)
        {
            disk.StageClear();
        }

        foreach (var (id, bytes) in result.States)
        {
            disk.Stage(id, bytes);
        }

        foreach (var id in result.Deleted)
        {
            disk.StageDelete(id);
        }

        var next = result.NextOffset ?? (fromCheckpoint ? checkpoint!.InputOffset : null);
        var moved = result.MarkerOffset >= 0 && next is long n ? new StoreCheckpoint(result.MarkerOffset + 1, n, options.InputTopic) : null;
        disk.Apply(moved ?? (fromCheckpoint ? checkpoint : null));

        // A stream to re-write whose committed state precedes the checkpoint: the store holds it, the records read do not.
        foreach (var stream in result.Rewrites.Keys.ToList())
        {
            if (result.Rewrites[stream] is null && !result.Deleted.Contains(stream) && disk.TryRead(stream, out var committed))
            {
                result.Rewrites[stream] = committed;
            }
        }

        if (result.StartedOver && checkpoint is not null)
        {
            LogCheckpointOutOfRange(logger, partition, checkpoint.ChangelogOffset);
        }

        return next;
    }

    /// <summary>
    /// The checkpoint after the last committed transaction: the changelog's end now (nothing of a later transaction is in
    /// it yet, since this loop writes the next one), or null when the broker does not answer in time.
    /// </summary>
    private StoreCheckpoint? TakeCheckpoint(int partition, PartitionState state)
    {
        if (state.Rewrites is not null || state.CommittedOffset < 0)
        {
            // Records after the newest marker still wait to be superseded: a restore must read them again.
            return null;
        }

        try
        {
            var end = consumer!.QueryWatermarkOffsets(state.ChangelogPartition, CheckpointQueryTimeout).High.Value;
            return end >= 0 ? new StoreCheckpoint(end, state.CommittedOffset, options.InputTopic) : null;
        }
        catch (KafkaException e)
        {
            LogCheckpointSkipped(logger, partition, e.Error.Reason);
            return null;
        }
    }

    /// <summary>Writes a checkpoint of each of <paramref name="partitions"/> that has a disk store (no transaction open).</summary>
    private void Checkpoint(IEnumerable<int> partitions)
    {
        if (inTransaction)
        {
            return;
        }

        foreach (var partition in partitions)
        {
            if (owned.TryGetValue(partition, out var state) && state.Disk is { } disk && TakeCheckpoint(partition, state) is { } checkpoint)
            {
                disk.Apply(checkpoint);
            }
        }
    }

    private void CloseStores(IEnumerable<int> partitions)
    {
        foreach (var partition in partitions)
        {
            if (disks.Remove(partition, out var disk))
            {
                disk.Dispose();
            }
        }
    }

    private long CacheShare(int partitions) => Math.Max(1, storeOptions.CacheBytes / Math.Max(1, partitions));

    /// <summary>
    /// Takes every owned partition out of service to be restored from its changelog by the loop, as an assigned one is
    /// (<see cref="RestoreAssigned"/>, which polls the group consumer meanwhile), and sought back to where its committed
    /// input ends. Called where a transaction aborts, which may be a rebalance callback or a commit before a restore:
    /// restored there, without a poll, a rewind longer than <c>max.poll.interval.ms</c> made librdkafka leave the group.
    /// The disk stores stay open (their staged writes were discarded) and the restore reads from their checkpoints.
    /// </summary>
    private void Rewind()
    {
        foreach (var partition in owned.Keys)
        {
            ScheduleRestore(partition, atBeginning: true);
        }

        owned.Clear();
        OwnedChanged();
    }

    /// <summary>
    /// Input waiting per owned partition, summed, plus that of the partitions waiting for their changelog partition
    /// (<see cref="awaitingLag"/>): the high watermark (cached by the consumer from its fetches, so no broker
    /// request) less the last committed position. Measured on a timer as well as at commit, so that it stays current
    /// while transactions fail or the loop is blocked; a partition with no committed position counts from its start.
    /// </summary>
    private void MeasureLag()
    {
        lock (lagGate)
        {
            if (lagStopped || consumer is not { } c)
            {
                return;
            }

            long lag = 0;
            foreach (var partition in Volatile.Read(ref progress))
            {
                var watermarks = c.GetWatermarkOffsets(partition.InputPartition);
                if (watermarks.High.Value < 0)
                {
                    continue;
                }

                var from = partition.CommittedOffset >= 0 ? partition.CommittedOffset : Math.Max(0, watermarks.Low.Value);

                // A transactional producer's commit marker takes the partition's last offset and is never delivered:
                // counted, the lag never went below one per partition, and liveness failed after StallTimeout of quiet.
                from = Math.Max(from, Interlocked.Read(ref partition.PassedOver));
                lag += Math.Max(0, watermarks.High.Value - from);
            }

            // Records of partitions waiting for their changelog partition count too (an operator's lag alert should see
            // them), but not toward a stall: no commit of this loop can take them before the changelog grows.
            Status.SetLag(lag, Interlocked.Read(ref awaitingLag));
            if (lag == 0)
            {
                // Nothing waits: no commit is due, so the stall clock starts afresh.
                Status.MarkProgress();
            }
        }
    }

    private void StopLagTimer()
    {
        lock (lagGate)
        {
            lagStopped = true;
        }

        lagTimer?.Dispose();
    }

    /// <summary>After partitions were assigned, revoked, lost or rewound: status and the lag timer's view.</summary>
    private void OwnedChanged()
    {
        foreach (var partition in owned.Values)
        {
            if (partition.Store.IsCache)
            {
                partition.Store.CacheBytes = CacheShare(owned.Count);
            }
        }

        Status.SetPartitions(owned.Keys);
        Volatile.Write(ref progress, [.. owned.Values]);
        CountStreams();
    }

    private void CountStreams()
    {
        long live = 0, evicted = 0;
        foreach (var partition in owned.Values)
        {
            live += partition.Store.LiveCount;
            evicted += partition.Store.EvictedCount;
        }

        Status.LiveStreams = live;
        Status.EvictedStreams = evicted;
    }

    /// <summary>
    /// The error that doomed the transaction. Once a record fails at the broker, librdkafka refuses every further record
    /// with an "erroneous state" error that does not say why; committing a transaction in that state commits nothing and
    /// returns the original error (a producer that refuses records is never in a transaction it could commit).
    /// </summary>
    private KafkaException Cause(KafkaException e)
    {
        if (!inTransaction || e is not ProduceException<byte[], byte[]> { Error.Code: ErrorCode.Local_State })
        {
            return e;
        }

        try
        {
            producer!.CommitTransaction(options.TransactionTimeout);
        }
        catch (KafkaTxnRequiresAbortException cause)
        {
            return cause;
        }
        catch (KafkaException)
        {
            return e;
        }

        throw new InvalidOperationException("a producer that refused a record committed its transaction; stopping so that a restart restores a consistent state.", e);
    }

    /// <summary>
    /// Whether an aborted transaction may be redone. A broker that rejects a record as too large (its topic limit is
    /// below the producer's <c>message.max.bytes</c>) lowers the output limit instead, so that the redo dead-letters the
    /// record in a form that fits; other aborts are redone at most <see cref="MaxConsecutiveAborts"/> times in a row
    /// (without a commit in between), then the error surfaces to the host.
    /// </summary>
    /// <summary>
    /// A non-fatal transactional error needs an abort: aborts and rewinds to redo from the changelog, or rethrows
    /// <paramref name="e"/> to the host when the bound on consecutive aborts is spent (<see cref="MayRedo"/>).
    /// </summary>
    private void AbortToRedo(KafkaException e)
    {
        var cause = Cause(e);
        if (!MayRedo(cause))
        {
            ExceptionDispatchInfo.Throw(e);
        }

        LogAbort(logger, cause.Error.Reason);
        AbortAndRewind();
    }

    private bool MayRedo(KafkaException e)
    {
        var sink = this.sink!;
        if (e.Error.Code is ErrorCode.MsgSizeTooLarge or ErrorCode.RecordListTooLarge && sink.LargestOutput > MinOutputLimit)
        {
            var limit = Math.Max(MinOutputLimit, Math.Min(sink.OutputLimit, sink.LargestOutput) / 2);
            if (limit < sink.OutputLimit)
            {
                LogOutputLimitLowered(logger, sink.LargestOutput, limit);
                sink.OutputLimit = limit;
                return true;
            }
        }

        return ++consecutiveAborts <= MaxConsecutiveAborts;
    }

    /// <summary>
    /// Writes a stream's state to the partition's changelog in the open transaction and stages it for the disk store.
    /// A state larger than the producer's <c>message.max.bytes</c> cannot be written; the stream's older state must not
    /// stay behind either, or the stream would go back to it: after a restart (the changelog's) and, with the disk store,
    /// while running as soon as the stream leaves the memory cache (the store's). Its tombstone is written instead, the
    /// disk store's copy deleted with the same commit, and the stream dropped from memory after the commit
    /// (<see cref="PartitionState.Unpersisted"/>): its next record starts it from its model's prior, while running and
    /// after a restart alike.
    /// </summary>
    private void WriteState(PartitionState partition, string stream, ReadOnlySpan<byte> state)
    {
        if (sink!.ProduceState(partition.ChangelogPartition, stream, state))
        {
            // The disk store receives the same bytes, once the transaction committed.
            partition.Disk?.Stage(stream, state);
            partition.Unpersisted?.Remove(stream);
            return;
        }

        metrics.StateTooLarge();
        LogStateTooLarge(logger, stream, state.Length, sink.ProducerLimit);
        sink.ProduceTombstone(partition.ChangelogPartition, stream);
        partition.Disk?.StageDelete(stream);
        (partition.Unpersisted ??= new HashSet<string>(StringComparer.Ordinal)).Add(stream);
    }

    private void AnswerQueries()
    {
        while (queries.TryDequeue(out var q))
        {
            Interlocked.Decrement(ref pendingQueries);
            if (q.Reply.Task.IsCompleted)
            {
                // Timed out or cancelled: nobody waits for this answer.
                continue;
            }

            StreamSnapshot? snapshot = null;
            string? problem = null;
            string? superseded = null;
            foreach (var (id, partition) in owned)
            {
                // An evicted stream is still owned: answer from its serialised state without reviving it.
                StreamState? state = null;
                if (partition.Store.TryGetLive(q.Stream, out var live))
                {
                    state = live;
                }
                else if (partition.Store.TryPeekEvicted(q.Stream, out var bytes))
                {
                    try
                    {
                        state = StreamStateCodec.Read(q.Stream, bytes, processor.Router, out var reason);
                        if (state is null)
                        {
                            // Owned, but its stored state is another model's (the model changed under its name since
                            // it was written, or is no longer configured): the stream's next record replaces it.
                            superseded = reason;
                            break;
                        }
                    }
                    catch (FormatException)
                    {
                        // Bytes that are no stream state: no state to answer from, as for a stream never seen here;
                        // the stream's next record discards them.
                    }
                }

                if (state is not null)
                {
                    // A damaged state can make the model throw as a step would: the query fails, never the loop.
                    var scratch = StepScratch.Mark;
                    try
                    {
                        var info = state.Model.Estimator.Info;
                        var mean = new double[info.StateDimension];
                        var cov = new double[info.StateDimension * info.StateDimension];
                        state.Model.Estimator.ReadState(state.Buffer, mean, cov);
                        snapshot = new StreamSnapshot(state.StreamId, state.Model.Name, id, state.Steps, state.LastModelTime, mean, cov, state.Gate.TotalAlerts, Processing.State.LearnedParameters.ToJson(state), Predict(state));
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        StepScratch.Release(scratch);
                        problem = $"model '{state.Model.Name}' could not read the state of stream {TerminalSafeText.Quote(state.StreamId)} ({e.GetType().Name}: {e.Message}); the stream's next record starts it again from the prior.";
                        LogQueryUnreadable(logger, e, state.StreamId, state.Model.Name);
                    }

                    break;
                }
            }

            q.Reply.TrySetResult(
                superseded is not null ? new StreamQueryResult(StreamQueryOutcome.Superseded, Problem: superseded)
                : problem is null ? new StreamQueryResult(StreamQueryOutcome.Answered, snapshot)
                : new StreamQueryResult(StreamQueryOutcome.Unreadable, Problem: problem));
        }
    }

    /// <summary>
    /// What a stream expects to read next: its model's forecast at horizon 1 (one <c>forecastStep</c> after its last
    /// observation), as the processor computes the horizon-1 <c>forecast</c> record; null before the first observation
    /// (nothing to predict from, and no time to predict for). The forecast reads the state without changing it, so a
    /// query leaves the stream's later outputs as they would have been. The time is null when no record can carry it.
    /// </summary>
    private static StreamPrediction? Predict(StreamState state)
    {
        if (state.Steps == 0)
        {
            return null;
        }

        var model = state.Model;
        var estimator = model.Estimator;
        var forecast = new Forecast(estimator.Info, 1);
        estimator.Forecast(state.Buffer, model.Spec.ForecastStep, forecast);
        var m = estimator.Info.ObservationDimension;
        var covariance = forecast.ObservationCovarianceAt(1);
        var rows = new double[m][];
        for (var i = 0; i < m; i++)
        {
            rows[i] = covariance.Slice(i * m, m).ToArray();
        }

        var time = state.LastTime.AddModelTime(model.Spec.ForecastStep, model.UnitMilliseconds);
        JsonNode? written = null;
        if (InputRules.CanWrite(time))
        {
            if (time.Format == TimeFormat.Iso8601)
            {
                Span<char> text = stackalloc char[40];
                written = JsonValue.Create(text[..time.FormatIso(text)].ToString());
            }
            else
            {
                written = JsonValue.Create(time.Value);
            }
        }

        return new StreamPrediction(written, forecast.ObservationMeanAt(1).ToArray(), rows);
    }

    /// <summary>Answers every queued query <see cref="StreamQueryOutcome.Stopped"/> (the loop has stopped; any thread).</summary>
    private void AnswerPendingQueries()
    {
        while (queries.TryDequeue(out var q))
        {
            Interlocked.Decrement(ref pendingQueries);
            q.Reply.TrySetResult(new StreamQueryResult(StreamQueryOutcome.Stopped));
        }
    }

    private void Retry(string what, Action action)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                action();
                return;
            }
            catch (KafkaRetriableException e) when (attempt < 8 && !stopping.IsCancellationRequested)
            {
                LogRetry(logger, what, attempt, e.Error.Reason);
                Thread.Sleep(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
            }
        }
    }

    /// <summary>
    /// True when the error says another producer took over this worker's transactional id: a newer incarnation of the
    /// same instance, or a second worker given the same <see cref="KafkaTransportOptions.InstanceId"/>.
    /// </summary>
    internal static bool IsFencing(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is KafkaException { Error.Code: ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch or ErrorCode.Local_Fenced })
            {
                return true;
            }
        }

        return false;
    }

    private void OnClientLog(LogMessage message)
    {
        LogClient(logger, message.Level, message.Facility, message.Message);
    }

    private void OnClientError(Error error)
    {
        LogClientError(logger, error.Code, error.Reason, error.IsFatal);
    }

    private static void Apply(ClientConfig config, Dictionary<string, string> extra)
    {
        foreach (var (key, value) in extra)
        {
            config.Set(key, value);
        }
    }

    /// <summary>
    /// Logs a stream whose model threw: the first <see cref="LoggedStreamFailures"/> with their exception, then one line
    /// saying the rest are only counted, so a model that fails on every record cannot flood the log.
    /// </summary>
    private void ReportStreamFailure(StreamFailure failure)
    {
        streamFailures++;
        if (streamFailures <= LoggedStreamFailures)
        {
            if (failure.RecordRejected)
            {
                LogStepFailed(logger, failure.Error, failure.StreamId, failure.Model);
            }
            else
            {
                LogStreamRestarted(logger, failure.Error, failure.StreamId, failure.Model);
            }
        }
        else if (streamFailures == LoggedStreamFailures + 1)
        {
            LogStreamFailuresQuiet(logger, LoggedStreamFailures);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream}: model {Model} threw on the stream's state; the state was discarded and the stream started again from its prior with the record (counted in streamseq.streams.discarded)")]
    private static partial void LogStreamRestarted(ILogger logger, Exception error, string stream, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream}: model {Model} threw on the record, from the stream's state and from its prior; the record was dead-lettered as step-failed and the stream stays at its prior")]
    private static partial void LogStepFailed(ILogger logger, Exception error, string stream, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} streams' models have thrown since the start; further failures are not logged, only counted in streamseq.streams.discarded and as step-failed dead letters")]
    private static partial void LogStreamFailuresQuiet(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream}: model {Model} threw while reading the stream's state for a query; the query was answered with the error, and the stream's next record starts it again from the prior")]
    private static partial void LogQueryUnreadable(ILogger logger, Exception error, string stream, string model);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker started: transactional id {TransactionalId}, input {Topic}, group {Group}")]
    private static partial void LogStarted(ILogger logger, string transactionalId, string topic, string group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Kafka {Client} did not finish closing its native handle within {Seconds} s (a known librdkafka wait on broker threads); its transactions and group membership are already settled, so shutdown continues without it")]
    private static partial void LogDisposeAbandoned(ILogger logger, string client, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker stopped after {Records} records and {Commits} committed transactions; {Ending}")]
    private static partial void LogStopped(ILogger logger, long records, long commits, string ending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Changelog of partition {Partition} holds {Count} records under its offset-marker key that are not offsets (written by a version that let a record's 'stream' field name the marker); they were skipped, and the partition resumed from the marker before them")]
    private static partial void LogMalformedMarkers(ILogger logger, int partition, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Changelog of partition {Partition} holds {Count} offset markers of another input (first at offset {Offset}: {Key}; this worker's is {Own}); they close nothing. Expected after the input topic was renamed or repartitioned; otherwise the changelog is shared with another deployment, whose state records this worker takes as its own")]
    private static partial void LogForeignMarkers(ILogger logger, int partition, long count, long offset, string key, string own);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Changelog of partition {Partition} holds {Count} records whose key is no stream id, which no worker writes (first at offset {Offset}: {Problem}); they were skipped")]
    private static partial void LogInvalidChangelogKeys(ILogger logger, int partition, long count, long offset, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Input partition {Partition} resumed at offset {Offset}, before offset {MarkerOffset} where the changelog's offset marker says the committed input ends: the marker is past the partition's end (the input topic was re-created, or the changelog was written for another input), so the consumer's auto.offset.reset (earliest) applied and the restored states meet those records again")]
    private static partial void LogResumedBeforeMarker(ILogger logger, int partition, long offset, long markerOffset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored partition {Partition}: {Streams} from {Records} ({Ignored} from uncommitted transactions ignored, {Rewrites} to re-write with their committed state); resuming at {Resume}")]
    private static partial void LogRestored(ILogger logger, int partition, string streams, string records, long ignored, string rewrites, string resume);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The broker rejected a record as too large (the largest output or dead letter of the transaction was {Largest} bytes): outputs and dead letters are now kept under {Limit} bytes. Set StreamSeq:Kafka:Client:message.max.bytes to the topics' max.message.bytes")]
    private static partial void LogOutputLimitLowered(ILogger logger, int largest, int limit);

    [LoggerMessage(Level = LogLevel.Error, Message = "The state of stream {Stream} ({Bytes} bytes) exceeds the producer's message.max.bytes ({Limit}) and cannot be written to the changelog: its older state was deleted (a changelog tombstone, and from the disk store) and the stream starts again from its model's prior at its next record, as it would after a restart")]
    private static partial void LogStateTooLarge(ILogger logger, string stream, int bytes, int limit);

    [LoggerMessage(Level = LogLevel.Information, Message = "Disk store of partition {Partition} brought up to the changelog from offset {From} (read from the beginning instead: {StartedOver}) in {Path}")]
    private static partial void LogStoreRestored(ILogger logger, int partition, long from, bool startedOver, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The checkpoint of partition {Partition}'s disk store (changelog offset {Offset}) is outside what the changelog holds (records deleted, or the topic re-created): the store was rebuilt from the whole changelog")]
    private static partial void LogCheckpointOutOfRange(ILogger logger, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The disk store of partition {Partition} in {Path} could not be opened ({Reason}): it was replaced by an empty store and is rebuilt from the whole changelog")]
    private static partial void LogStoreDamaged(ILogger logger, int partition, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No checkpoint of partition {Partition}'s disk store this time: the changelog's end was not known in time ({Reason}); the store stays ahead of its older checkpoint")]
    private static partial void LogCheckpointSkipped(ILogger logger, int partition, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored partition {Partition} with its local disk store: {Streams}, {Read} read from {Records} from offset {From} on (a stream written in several transactions counts in each), the others found in the store ({Ignored} from uncommitted transactions ignored, {Rewrites} to re-write with their committed state; at most {Held} held in memory); resuming at {Resume}")]
    private static partial void LogStoreRestoredStreams(ILogger logger, int partition, string streams, string read, string records, long from, string ignored, string rewrites, string held, string resume);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored {Partitions} ({Streams}: {FromChangelog} read from the changelog, {FromStores} found in the local disk stores) in {Milliseconds:F0} ms")]
    private static partial void LogRestoreDoneWithStores(ILogger logger, string partitions, string streams, string fromChangelog, string fromStores, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored {Partitions} ({Streams}) in {Milliseconds:F0} ms")]
    private static partial void LogRestoreDone(ILogger logger, string partitions, string streams, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discarded restored state of stream {Stream}: {Reason} (changelog partition {Partition}); the stream starts again from its model's prior")]
    private static partial void LogDiscarded(ILogger logger, string stream, string reason, int partition);

    [LoggerMessage(Level = LogLevel.Error, Message = "Input partition {Partition} of '{Input}' has no partition in the changelog '{Changelog}' ({ChangelogPartitions} partitions): the input topic has more partitions than the changelog (partitions added to the input, or the changelog not created yet). Its records wait, unprocessed and not lost, until the changelog has this partition: add partitions to the changelog (kafka-topics --alter --topic {ChangelogTopic} --partitions {Needed}). The worker looks again every {Seconds:F0} s and then restores and processes the partition without a restart")]
    private static partial void LogAwaitingChangelog(ILogger logger, int partition, string input, string changelog, int changelogPartitions, string changelogTopic, int needed, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Input partition {Partition}: the changelog '{Changelog}' now has its partition; the partition is restored, and its waiting records processed")]
    private static partial void LogChangelogFound(ILogger logger, int partition, string changelog);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream {Stream} moved from input partition {From} to {To} (the input topic's partition count changed, or a producer chose the partition): its state moved with it, written to the changelog under the new partition and removed under the old one in the same transaction")]
    private static partial void LogStreamMoved(ILogger logger, string stream, int from, int to);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} streams have moved input partitions since the start; further moves are not logged, only counted in streamseq.streams.moved")]
    private static partial void LogStreamsMovedQuiet(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions revoked: {Partitions}")]
    private static partial void LogRevoked(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partitions lost: {Partitions}; the open transaction is aborted")]
    private static partial void LogLost(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not committing: the group took this instance's partitions away while its transaction was open (the loop stalled past the session timeout or max.poll.interval.ms); the transaction is aborted, and the partitions' next owner processes its records")]
    private static partial void LogAssignmentLostAtCommit(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This Confluent.Kafka version does not expose librdkafka's assignment-lost flag: a loop that stalls past max.poll.interval.ms may commit its open transaction after its partitions moved, which only a broker's fencing (CommitGroupOffsets on Apache Kafka) stops")]
    private static partial void LogNoAssignmentLostProbe(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "The broker is the embedded one, which does not hide records of transactions that never committed: each transaction's offset markers are written once its outputs and states are acknowledged, so that a marker on the broker always follows its transaction's records")]
    private static partial void LogMarkersAfterRecords(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transaction aborted ({Reason}); rewinding owned partitions to the changelog")]
    private static partial void LogAbort(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying {What} (attempt {Attempt}): {Reason}")]
    private static partial void LogRetry(ILogger logger, string what, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transient error during {What}: {Reason}")]
    private static partial void LogTransient(ILogger logger, string what, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "librdkafka {Level} {Facility}: {Message}")]
    private static partial void LogClient(ILogger logger, SyslogLevel level, string facility, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Another producer took over transactional id {TransactionalId}: either a newer start of this instance, or a second worker with the same InstanceId {InstanceId}{Default}. Two workers of one group must not share an InstanceId (set StreamSeq:Kafka:InstanceId on each); this one stops")]
    private static partial void LogFenced(ILogger logger, string transactionalId, string instanceId, string @default);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka client error {Code}: {Reason} (fatal: {Fatal})")]
    private static partial void LogClientError(ILogger logger, ErrorCode code, string reason, bool fatal);

    private sealed class PartitionState(StateStore store, byte[] offsetKey, TopicPartition changelogPartition, TopicPartition inputPartition)
    {
        public StateStore Store { get; } = store;

        public byte[] OffsetKey { get; } = offsetKey;

        /// <summary>This partition's changelog partition (the changelog is partitioned like the input).</summary>
        public TopicPartition ChangelogPartition { get; } = changelogPartition;

        /// <summary>The input partition (for watermark look-ups).</summary>
        public TopicPartition InputPartition { get; } = inputPartition;

        /// <summary>The next input offset to process.</summary>
        public long NextOffset { get; set; }

        /// <summary>The next input offset after the last committed transaction (-1: none yet).</summary>
        public long CommittedOffset { get; set; }

        /// <summary>
        /// The consumer's position seen while nothing of the partition was uncommitted: the offsets from
        /// <see cref="CommittedOffset"/> up to it hold nothing the consumer delivers (transaction markers of a
        /// transactional producer's input, records of its aborted transactions), so they are no lag. Written by the loop,
        /// read by the lag timer.
        /// </summary>
        public long PassedOver;

        /// <summary>
        /// Streams whose uncommitted changelog records follow the newest marker, with their committed state (null: a
        /// tombstone); written before the next marker of this partition (see <see cref="ChangelogRestorer"/>).
        /// </summary>
        public Dictionary<string, byte[]?>? Rewrites { get; set; }

        /// <summary>
        /// Streams whose state the open transaction could not write (larger than the producer's message size) and
        /// deleted instead: dropped from the store once the transaction committed.
        /// </summary>
        public HashSet<string>? Unpersisted { get; set; }

        public bool Touched { get; set; }

        /// <summary>The partition's disk store (null: in memory).</summary>
        public PartitionStore? Disk { get; init; }

        /// <summary>Transaction header for this partition in the open transaction.</summary>
        public byte[]? Stamp { get; set; }
    }
}
