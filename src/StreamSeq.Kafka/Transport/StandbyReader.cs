using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamSeq.Kafka.Stores;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// Standby replicas: on a thread of its own, tails the changelog partitions of every input partition this instance
/// does not own into local disk stores (one <see cref="StandbyApplier"/> each, in the directory the owner's store would
/// use), so that when the group assigns one of them here, the restore reads only what follows the standby's checkpoint.
/// </summary>
/// <remarks>
/// The loop hands partitions over with <see cref="Release"/> (before it opens their stores: the standby stops tailing
/// them, writes what counts and closes them) and takes them back with <see cref="Mirror"/> (after it closed their
/// stores). A store is therefore open in one place at a time. A consumer of its own, with no group, assigns the
/// partitions and reads read_committed; nothing here touches the loop's state. If the standby fails, it logs and stops:
/// owned partitions are unaffected, and a later assignment restores from whatever checkpoint the stores hold.
/// </remarks>
internal sealed partial class StandbyReader : IDisposable
{
    /// <summary>How often the input's partition count is looked up again.</summary>
    private static readonly TimeSpan MetadataInterval = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest a look for a partition's newest marker may go without a record.</summary>
    private static readonly TimeSpan MarkerScanPatience = TimeSpan.FromSeconds(10);

    private readonly ConsumerConfig config;
    private readonly string changelogTopic;
    private readonly string inputTopic;
    private readonly Func<int, string> storePath;
    private readonly WorkerStatus status;
    private readonly ILogger logger;
    private readonly object gate = new();
    private readonly HashSet<int> owned = [];
    private readonly Dictionary<int, StandbyApplier> appliers = [];
    private readonly HashSet<int> caughtUp = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Thread thread;
    private int requested;
    private int done;
    private bool stopped;
    private bool disposed;

    /// <summary>Creates the reader (<see cref="Start"/> starts it).</summary>
    /// <param name="config">A consumer without group (the changelog restore consumer's settings).</param>
    /// <param name="changelogTopic">The changelog.</param>
    /// <param name="inputTopic">The input topic (whose partitions are mirrored, and whose markers count).</param>
    /// <param name="storePath">A partition's store folder.</param>
    /// <param name="status">Where the standby checkpoints are shown.</param>
    /// <param name="logger">Logger.</param>
    public StandbyReader(ConsumerConfig config, string changelogTopic, string inputTopic, Func<int, string> storePath, WorkerStatus status, ILogger logger)
    {
        this.config = new ConsumerConfig(new Dictionary<string, string>(config))
        {
            // A checkpoint outside the partition must be noticed, never silently skipped over (see OnOutOfRange).
            AutoOffsetReset = AutoOffsetReset.Error,
            EnablePartitionEof = true,

            // Tailing, not restoring: an idle changelog costs one fetch per half second.
            FetchWaitMaxMs = 500,
        };
        this.changelogTopic = changelogTopic;
        this.inputTopic = inputTopic;
        this.storePath = storePath;
        this.status = status;
        this.logger = logger;
        thread = new Thread(Run) { IsBackground = true, Name = "streamseq-standby" };
    }

    /// <summary>Starts tailing every partition not handed over.</summary>
    public void Start() => thread.Start();

    /// <summary>
    /// Stops tailing <paramref name="partitions"/> and closes their stores, and returns once that is done (or the reader
    /// stopped), so that the caller may open them.
    /// </summary>
    public void Release(IEnumerable<int> partitions, CancellationToken cancellation)
    {
        lock (gate)
        {
            owned.UnionWith(partitions);
            var ticket = ++requested;
            Monitor.PulseAll(gate);
            while (!stopped && done < ticket && !cancellation.IsCancellationRequested)
            {
                Monitor.Wait(gate, Poll);
            }

            // A cancelled wait must not let the caller open a store still open here: stopping waits for the thread.
            if (!stopped && done < ticket)
            {
                cancellation.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>Starts tailing <paramref name="partitions"/> (no longer owned, their stores closed by the caller).</summary>
    public void Mirror(IEnumerable<int> partitions)
    {
        lock (gate)
        {
            owned.ExceptWith(partitions);
            requested++;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>Stops the thread, writes what counts and closes the stores.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        stop.Cancel();
        lock (gate)
        {
            Monitor.PulseAll(gate);
        }

        if (thread.IsAlive)
        {
            thread.Join();
        }

        stop.Dispose();
    }

    private void Run()
    {
        try
        {
            using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
            try
            {
                Tail(consumer);
            }
            finally
            {
                consumer.Close();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // The standby is an optimisation: whatever fails here must not stop processing.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFailed(logger, e.GetType().Name, e.Message);
        }
        finally
        {
            try
            {
                foreach (var applier in appliers.Values)
                {
                    Close(applier);
                }
            }
            finally
            {
                // Whatever happened, the loop must not wait for this thread any more.
                appliers.Clear();
                status.SetStandby([]);
                lock (gate)
                {
                    stopped = true;
                    Monitor.PulseAll(gate);
                }
            }
        }
    }

    private void Tail(IConsumer<byte[], byte[]> consumer)
    {
        var partitions = 0;
        var nextLookup = 0L;
        var applied = -1;
        while (!stop.IsCancellationRequested)
        {
            if (Stopwatch.GetTimestamp() >= nextLookup)
            {
                var count = PartitionCount(consumer);
                nextLookup = Stopwatch.GetTimestamp() + (long)((count > 0 ? MetadataInterval : TimeSpan.FromSeconds(5)).TotalSeconds * Stopwatch.Frequency);
                if (count > 0 && count != partitions)
                {
                    partitions = count;
                    applied = -1;
                }
            }

            int ticket;
            HashSet<int> exclude;
            lock (gate)
            {
                ticket = requested;
                exclude = [.. owned];
            }

            if (ticket != applied)
            {
                Reconcile(consumer, partitions, exclude);
                applied = ticket;
                lock (gate)
                {
                    done = ticket;
                    Monitor.PulseAll(gate);
                }
            }

            if (appliers.Count == 0)
            {
                lock (gate)
                {
                    if (requested == applied && !stop.IsCancellationRequested)
                    {
                        Monitor.Wait(gate, Poll);
                    }
                }

                continue;
            }

            Step(consumer);
        }

        foreach (var applier in appliers.Values)
        {
            applier.Flush();
        }
    }

    /// <summary>Reads one record (or the end of a partition, or nothing) and applies it.</summary>
    private void Step(IConsumer<byte[], byte[]> consumer)
    {
        ConsumeResult<byte[], byte[]>? message;
        try
        {
            message = consumer.Consume(Poll);
        }
        catch (ConsumeException e) when (e.Error.Code is ErrorCode.Local_AutoOffsetReset or ErrorCode.OffsetOutOfRange && e.ConsumerRecord?.Partition is { } p && appliers.ContainsKey(p.Value))
        {
            OnOutOfRange(consumer, appliers[p.Value]);
            return;
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            LogTransient(logger, e.Error.Reason);
            return;
        }

        if (message is null)
        {
            // Nothing new: what counts goes to the stores.
            FlushAll();
            return;
        }

        if (!appliers.TryGetValue(message.Partition.Value, out var applier))
        {
            return;
        }

        if (message.IsPartitionEOF)
        {
            applier.AtEnd(message.Offset.Value);
            if (applier.Flush())
            {
                ShowCheckpoints();
            }

            if (caughtUp.Add(applier.Partition))
            {
                LogCaughtUp(logger, applier.Partition, message.Offset.Value, applier.Records, applier.HeldBack, applier.MostHeldBack);
            }

            return;
        }

        if (applier.Add(message.Offset.Value, message.Message.Key, message.Message.Value) && applier.Flush())
        {
            ShowCheckpoints();
        }
    }

    private void FlushAll()
    {
        var any = false;
        foreach (var applier in appliers.Values)
        {
            any |= applier.Flush();
        }

        if (any)
        {
            ShowCheckpoints();
        }
    }

    /// <summary>Tails the partitions not owned, and hands over those now owned.</summary>
    private void Reconcile(IConsumer<byte[], byte[]> consumer, int partitions, HashSet<int> exclude)
    {
        var release = appliers.Keys.Where(p => exclude.Contains(p) || p >= partitions).ToList();
        if (release.Count > 0)
        {
            consumer.IncrementalUnassign(release.Select(p => new TopicPartition(changelogTopic, p)).ToList());
            foreach (var p in release)
            {
                var applier = appliers[p];
                appliers.Remove(p);
                caughtUp.Remove(p);
                Close(applier);
                LogHandedOver(logger, p, applier.Checkpoint?.ChangelogOffset ?? 0, applier.HeldBack);
            }
        }

        var start = new List<TopicPartitionOffset>();
        for (var p = 0; p < partitions; p++)
        {
            if (exclude.Contains(p) || appliers.ContainsKey(p))
            {
                continue;
            }

            var path = storePath(p);
            var store = PartitionStore.Open(path);
            if (store.Damaged is { } damage)
            {
                LogStoreDamaged(logger, p, path, damage);
            }

            var applier = StandbyApplier.Open(store, inputTopic, p);
            LookForNewestMarker(applier);
            appliers[p] = applier;
            start.Add(Position(applier));
            LogStarted(logger, p, applier.Checkpoint?.ChangelogOffset ?? 0, applier.Checkpoint is not null, path);
        }

        if (start.Count > 0)
        {
            consumer.IncrementalAssign(start);
        }

        ShowCheckpoints();
    }

    /// <summary>
    /// The checkpoint is before the partition's first offset (retention deleted records) or after its end (the topic was
    /// re-created): the store cannot be trusted and is rebuilt from the beginning, as a restore does.
    /// </summary>
    private void OnOutOfRange(IConsumer<byte[], byte[]> consumer, StandbyApplier applier)
    {
        LogOutOfRange(logger, applier.Partition, applier.Checkpoint?.ChangelogOffset ?? 0);
        var partition = new TopicPartition(changelogTopic, applier.Partition);
        consumer.IncrementalUnassign([partition]);
        applier.StartOver();
        LookForNewestMarker(applier);
        caughtUp.Remove(applier.Partition);
        consumer.IncrementalAssign([Position(applier)]);
        ShowCheckpoints();
    }

    /// <summary>
    /// Finds the partition's newest marker after where the applier starts, reading back from the end, so that the
    /// records before it are staged as read (<see cref="StandbyApplier.CountBefore"/>) rather than held back in memory
    /// until it: a compacted changelog has one marker after every state of the partition. Without an answer from the
    /// broker the applier holds back until each marker, as before.
    /// </summary>
    private void LookForNewestMarker(StandbyApplier applier)
    {
        try
        {
            using var scan = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
            var partition = new TopicPartition(changelogTopic, applier.Partition);
            var watermarks = scan.QueryWatermarkOffsets(partition, MarkerScanPatience);
            var first = Math.Max(watermarks.Low.Value, applier.Checkpoint?.ChangelogOffset ?? 0);
            if (ChangelogRestorer.NewestMarker(scan, changelogTopic, applier.Partition, ChangelogKeys.OffsetKey(inputTopic, applier.Partition), first, watermarks.High.Value, MarkerScanPatience, stop.Token) is long at)
            {
                applier.CountBefore(at);
            }

            scan.Close();
        }
        catch (Exception e) when (e is KafkaException or TimeoutException)
        {
            LogTransient(logger, $"looking for the newest marker of changelog partition {applier.Partition}: {e.Message}");
        }
    }

    private TopicPartitionOffset Position(StandbyApplier applier) =>
        new(changelogTopic, applier.Partition, applier.Checkpoint is { } c ? new Offset(c.ChangelogOffset) : Offset.Beginning);

    private static void Close(StandbyApplier applier)
    {
        applier.Flush();
        applier.Store.Dispose();
    }

    private void ShowCheckpoints() =>
        status.SetStandby(appliers.Values.Where(a => a.Checkpoint is not null).ToDictionary(a => a.Partition, a => a.Checkpoint!.ChangelogOffset));

    private int PartitionCount(IConsumer<byte[], byte[]> consumer)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        try
        {
            var topic = admin.GetMetadata(inputTopic, TimeSpan.FromSeconds(5)).Topics.FirstOrDefault(t => t.Topic == inputTopic);
            return topic is null || topic.Error.IsError ? 0 : topic.Partitions.Count;
        }
        catch (KafkaException e)
        {
            LogTransient(logger, e.Error.Reason);
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Standby of partition {Partition} started at changelog offset {Offset} (from its checkpoint: {FromCheckpoint}) in {Path}")]
    private static partial void LogStarted(ILogger logger, int partition, long offset, bool fromCheckpoint, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Standby of partition {Partition} reached the changelog's end at offset {Offset} ({Records} records read, {HeldBack} streams held back after the newest marker; at most {MostHeldBack} held back at once)")]
    private static partial void LogCaughtUp(ILogger logger, int partition, long offset, long records, int heldBack, int mostHeldBack);

    [LoggerMessage(Level = LogLevel.Information, Message = "Standby of partition {Partition} handed over to processing with its checkpoint at changelog offset {Offset} ({HeldBack} streams held back after the newest marker, read again by the restore)")]
    private static partial void LogHandedOver(ILogger logger, int partition, long offset, int heldBack);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The standby checkpoint of partition {Partition} (changelog offset {Offset}) is outside what the changelog holds (records deleted, or the topic re-created): the standby store is rebuilt from the beginning")]
    private static partial void LogOutOfRange(ILogger logger, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The standby store of partition {Partition} in {Path} could not be opened ({Reason}): it was replaced by an empty store and is rebuilt from the beginning")]
    private static partial void LogStoreDamaged(ILogger logger, int partition, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Standby replicas: transient error: {Reason}")]
    private static partial void LogTransient(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Standby replicas stopped ({Error}: {Reason}); owned partitions are unaffected, and a partition assigned later restores from its store's last checkpoint")]
    private static partial void LogFailed(ILogger logger, string error, string reason);
}
