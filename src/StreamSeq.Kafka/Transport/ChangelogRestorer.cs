using System.Diagnostics;
using Confluent.Kafka;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// Reads changelog partitions from their beginning to their end and returns, per partition, the committed state bytes
/// per stream and the input partition's next offset. All partitions of one assignment are read by one consumer at once.
/// </summary>
/// <remarks>
/// The restore rule (docs/worker.md explains why it holds on Apache Kafka, compacted or not, and on the embedded broker):
/// a record counts when an offset marker of its partition follows it, and among those the newest record per stream
/// wins; records after the partition's newest marker belong to a transaction that never committed and are ignored.
/// Their streams are listed in <see cref="Result.Rewrites"/> with the committed state, which the worker writes again
/// before its next marker in that partition so that a broker that shows uncommitted records (the embedded one) can never
/// make them count.
/// </remarks>
internal sealed class ChangelogRestorer(ConsumerConfig config, TimeSpan patience)
{
    /// <summary>What one changelog partition holds.</summary>
    public sealed class Result
    {
        /// <summary>Committed state per stream.</summary>
        public Dictionary<string, byte[]> States { get; private set; } = new(StringComparer.Ordinal);

        /// <summary>The input partition's next offset, when a marker was found.</summary>
        public long? NextOffset { get; set; }

        /// <summary>The changelog offset of the newest marker read (-1: none).</summary>
        public long MarkerOffset { get; set; } = -1;

        /// <summary>Where reading started (0 when from the beginning).</summary>
        public long StartOffset { get; set; }

        /// <summary>
        /// True when reading was asked to start at an offset the partition no longer (or never) had (deleted by retention, or
        /// beyond its end: the topic was re-created): it read from the beginning instead, and a local copy built on the
        /// older records cannot be trusted.
        /// </summary>
        public bool StartedOver { get; set; }

        /// <summary>
        /// Streams whose newest counting record is a tombstone. Reading the whole partition they are simply absent; reading
        /// from an offset, they must be deleted from what was restored before it.
        /// </summary>
        public HashSet<string> Deleted { get; } = new(StringComparer.Ordinal);

        /// <summary>Records after the newest offset marker, ignored because their transaction never committed.</summary>
        public long Ignored { get; set; }

        /// <summary>Records under this partition's marker key whose value is not an offset; they close nothing.</summary>
        public long MalformedMarkers { get; set; }

        /// <summary>
        /// Records whose key is no stream id (not UTF-8, over <see cref="ChangelogKeys.MaxStreamIdBytes"/>, empty): no
        /// worker writes them, and read leniently they could overwrite a real stream's state; they are skipped.
        /// </summary>
        public long InvalidKeys { get; set; }

        /// <summary>The offset and reason of the first record counted in <see cref="InvalidKeys"/>.</summary>
        public (long Offset, string Problem)? FirstInvalidKey { get; set; }

        /// <summary>
        /// Records under a reserved key other than this partition's marker key: markers of another input topic or
        /// partition (the input renamed or repartitioned, or the changelog shared with another deployment). They close nothing.
        /// </summary>
        public long ForeignMarkers { get; set; }

        /// <summary>The offset and key (NULs shown as '/') of the first record counted in <see cref="ForeignMarkers"/>.</summary>
        public (long Offset, string Key)? FirstForeignMarker { get; set; }

        /// <summary>Changelog records read.</summary>
        public long Records { get; set; }

        /// <summary>
        /// True when the partition's counting records went to the caller's store as they were read (the <c>direct</c>
        /// argument of <see cref="Restore"/>), not into <see cref="States"/> and <see cref="Deleted"/>; the store was given
        /// the chance to clear itself first when reading started from the beginning.
        /// </summary>
        public bool Direct { get; set; }

        /// <summary>Counting records (states and tombstones) passed to the caller's store as they were read.</summary>
        public long DirectRecords { get; set; }

        /// <summary>
        /// The most states held in memory at once while reading the partition (<see cref="States"/> and the records since
        /// the last marker): with a store given directly, the records after the newest marker; otherwise every stream.
        /// </summary>
        public long MostHeld { get; internal set; }

        /// <summary>
        /// The streams with ignored records, each with its committed state (null: none, to be written as a tombstone).
        /// The next transaction that writes this partition's marker must write these first.
        /// </summary>
        public Dictionary<string, byte[]?> Rewrites { get; } = new(StringComparer.Ordinal);

        /// <summary>Records since the last marker, newest per stream (an empty value stands for a tombstone).</summary>
        internal Dictionary<string, byte[]> SinceMarker { get; private set; } = new(StringComparer.Ordinal);

        internal long RecordsSinceMarker { get; set; }

        /// <summary>A marker closes everything before it: those records count, newest per stream.</summary>
        internal void CloseAtMarker(long nextOffset, long markerOffset)
        {
            NextOffset = nextOffset;
            MarkerOffset = markerOffset;
            RecordsSinceMarker = 0;
            if (States.Count == 0 && Deleted.Count == 0)
            {
                // A compacted partition holds one marker after all its states: take the buffer over instead of copying.
                foreach (var (stream, value) in SinceMarker)
                {
                    if (value.Length == 0)
                    {
                        SinceMarker.Remove(stream);
                        Deleted.Add(stream);
                    }
                }

                (States, SinceMarker) = (SinceMarker, new(StringComparer.Ordinal));
                return;
            }

            foreach (var (stream, value) in SinceMarker)
            {
                if (value.Length == 0)
                {
                    States.Remove(stream);
                    Deleted.Add(stream);
                }
                else
                {
                    States[stream] = value;
                    Deleted.Remove(stream);
                }
            }

            SinceMarker.Clear();
        }

        /// <summary>At the end: what follows the newest marker never committed.</summary>
        internal void CloseAtEnd()
        {
            Ignored = RecordsSinceMarker;
            foreach (var stream in SinceMarker.Keys)
            {
                Rewrites[stream] = States.GetValueOrDefault(stream);
            }

            SinceMarker.Clear();
        }
    }

    /// <summary>Longest time between two calls of a restore's keep-alive while it reads.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Restores the given partitions.</summary>
    /// <param name="changelogTopic">The changelog.</param>
    /// <param name="inputTopic">The input topic (whose markers count).</param>
    /// <param name="partitions">The partitions.</param>
    /// <param name="cancellation">Stops the restore.</param>
    /// <param name="from">
    /// Where to start reading per partition (a local store's checkpoint); the others, and those whose offset the partition
    /// does not hold, are read from the beginning (<see cref="Result.StartedOver"/>).
    /// </param>
    /// <param name="direct">
    /// Per partition, once where reading starts is known (the second argument: true when from the beginning, so that
    /// the store must be cleared first), a store to give the partition's counting records to as they are read, in order
    /// (an empty value deletes), or null to collect them in <see cref="Result.States"/>. A disk store holds more states
    /// than memory can: collected, a partition of ten million streams would need gigabytes of heap at every restore from
    /// the beginning (a new volume, a damaged store), and the process would be killed before the store had any of them.
    /// The newest marker is looked for first, reading back from the end: every record before it counts, so only the
    /// records after it wait in memory.
    /// </param>
    /// <param name="keepAlive">
    /// Called between records at most every <see cref="KeepAliveInterval"/> (and between the windows of the search for
    /// the newest marker): the worker polls its group consumer there, so that a restore longer than
    /// <c>max.poll.interval.ms</c> neither makes librdkafka leave the group nor keeps the member from rejoining a
    /// rebalance another member started.
    /// </param>
    public Dictionary<int, Result> Restore(string changelogTopic, string inputTopic, IReadOnlyCollection<int> partitions, CancellationToken cancellation, IReadOnlyDictionary<int, long>? from = null, Func<int, bool, Action<string, byte[]>?>? direct = null, Action? keepAlive = null)
    {
        var results = partitions.ToDictionary(p => p, _ => new Result());
        if (partitions.Count == 0)
        {
            return results;
        }

        var markers = partitions.ToDictionary(p => p, p => ChangelogKeys.OffsetKey(inputTopic, p));
        var pending = new HashSet<int>(partitions);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        WarmMetadata(consumer, changelogTopic, TimeSpan.FromSeconds(Math.Min(5, patience.TotalSeconds)));
        var starts = new List<TopicPartitionOffset>();
        var sinks = new Dictionary<int, (Action<string, byte[]> Put, long Before)>();
        foreach (var p in partitions)
        {
            var start = Offset.Beginning;
            WatermarkOffsets? watermarks = null;
            if (from is not null && from.TryGetValue(p, out var offset))
            {
                // Read-committed watermarks: the low one (records before it were deleted) and the last stable offset.
                watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(changelogTopic, p), patience);
                if (offset >= watermarks.Low.Value && offset <= watermarks.High.Value)
                {
                    start = new Offset(offset);
                    results[p].StartOffset = offset;
                }
                else
                {
                    results[p].StartedOver = true;
                }
            }

            if (direct?.Invoke(p, start == Offset.Beginning) is { } put)
            {
                results[p].Direct = true;
                watermarks ??= consumer.QueryWatermarkOffsets(new TopicPartition(changelogTopic, p), patience);
                var first = start == Offset.Beginning ? watermarks.Low.Value : start.Value;
                keepAlive?.Invoke();
                if (NewestMarker(consumer, changelogTopic, p, markers[p], Math.Max(0, first), watermarks.High.Value, patience, cancellation) is long at)
                {
                    sinks[p] = (put, at);
                }
            }

            starts.Add(new TopicPartitionOffset(changelogTopic, p, start));
        }

        consumer.Assign(starts);
        var clock = Stopwatch.StartNew();
        var lastProgress = clock.Elapsed;
        var lastKeepAlive = clock.Elapsed;
        while (pending.Count > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            if (keepAlive is not null && clock.Elapsed - lastKeepAlive >= KeepAliveInterval)
            {
                keepAlive();
                lastKeepAlive = clock.Elapsed;
            }

            var message = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (message is null)
            {
                if (clock.Elapsed - lastProgress > patience)
                {
                    throw new TimeoutException($"restoring {changelogTopic} partitions [{string.Join(",", pending)}] made no progress for {patience}.");
                }

                continue;
            }

            lastProgress = clock.Elapsed;
            var partition = message.Partition.Value;
            if (message.IsPartitionEOF)
            {
                pending.Remove(partition);
                continue;
            }

            var result = results[partition];
            result.Records++;
            var key = message.Message.Key;
            if (key is null)
            {
                continue;
            }

            if (ChangelogKeys.IsOffsetKey(key))
            {
                // Markers of other input topics or partitions (a renamed input, a changed partition count) close nothing.
                if (key.AsSpan().SequenceEqual(markers[partition]) && message.Message.Value is { } v)
                {
                    if (ChangelogKeys.TryReadOffset(v, out var next))
                    {
                        result.CloseAtMarker(next, message.Offset.Value);
                    }
                    else
                    {
                        result.MalformedMarkers++;
                    }
                }
                else if (!key.AsSpan().SequenceEqual(markers[partition]))
                {
                    result.ForeignMarkers++;
                    result.FirstForeignMarker ??= (message.Offset.Value, ChangelogKeys.KeyText(key));
                }

                continue;
            }

            // Decoded strictly, as input keys are: a key no input record can have names no stream.
            if (!ChangelogKeys.TryReadStreamId(key, out var stream, out var problem))
            {
                result.InvalidKeys++;
                result.FirstInvalidKey ??= (message.Offset.Value, problem);
                continue;
            }

            // A state is never empty: an empty value and a tombstone both delete.
            if (sinks.TryGetValue(partition, out var sink) && message.Offset.Value < sink.Before)
            {
                // Before the partition's newest marker: it counts, and goes to the store now.
                sink.Put(stream, message.Message.Value ?? []);
                result.DirectRecords++;
                continue;
            }

            result.SinceMarker[stream] = message.Message.Value ?? [];
            result.RecordsSinceMarker++;
            result.MostHeld = Math.Max(result.MostHeld, result.States.Count + result.SinceMarker.Count);
        }

        consumer.Close();
        foreach (var result in results.Values)
        {
            result.CloseAtEnd();
        }

        return results;
    }

    /// <summary>
    /// The offset of the newest offset marker of <paramref name="partition"/> in [<paramref name="start"/>,
    /// <paramref name="end"/>) whose value is an offset, found by reading windows back from the end (each four times the
    /// last; the marker is usually among the last records); null when there is none.
    /// </summary>
    internal static long? NewestMarker(IConsumer<byte[], byte[]> consumer, string topic, int partition, byte[] marker, long start, long end, TimeSpan patience, CancellationToken cancellation)
    {
        var window = 4096L;
        while (end > start)
        {
            var begin = Math.Max(start, end - window);
            consumer.Assign(new TopicPartitionOffset(topic, partition, begin));
            long? found = null;
            var clock = Stopwatch.StartNew();
            var lastProgress = clock.Elapsed;
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                var message = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (message is null)
                {
                    if (clock.Elapsed - lastProgress > patience)
                    {
                        throw new TimeoutException($"restoring {topic} partition {partition}: looking for its newest offset marker made no progress for {patience}.");
                    }

                    continue;
                }

                lastProgress = clock.Elapsed;
                if (message.IsPartitionEOF || message.Offset.Value >= end)
                {
                    break;
                }

                if (message.Message.Key is { } key && key.AsSpan().SequenceEqual(marker) && message.Message.Value is { } value && ChangelogKeys.TryReadOffset(value, out _))
                {
                    found = message.Offset.Value;
                }
            }

            consumer.Unassign();
            if (found is not null)
            {
                return found;
            }

            end = begin;
            window *= 4;
        }

        return null;
    }

    /// <summary>
    /// Looks up the topic's partition leaders on the consumer's own connection before assigning. Assigned at their
    /// beginning, partitions need an offset lookup at their leader; when no leader is known yet, librdkafka retries that
    /// lookup only after half a second, which made every restore start about 500 ms late.
    /// </summary>
    private static void WarmMetadata(IConsumer<byte[], byte[]> consumer, string topic, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        try
        {
            admin.GetMetadata(topic, timeout);
        }
        catch (KafkaException)
        {
            // Only a head start: the assignment below finds the leaders itself, just later.
        }
    }
}
