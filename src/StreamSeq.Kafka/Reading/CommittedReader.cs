using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Native;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Kafka.Reading;

/// <summary>
/// Reads the committed records of a topic, every partition in offset order, to its end or (following) until
/// cancelled: with the broker's read_committed isolation, or, where the broker does not isolate transactions (the
/// embedded broker), with the worker's offset markers (<see cref="TransactionMarkers{T}"/>).
/// </summary>
/// <remarks>
/// Without following, the read is a snapshot: every partition of the topic up to its end when reached, and (marker
/// rule) the changelog up to its end after that, so a transaction whose marker was written by then counts and one
/// still open does not. Records of one partition are handed on in offset order; under the marker rule a record waits
/// for its transaction's marker, so records of different transactions of one input partition keep their commit order.
/// </remarks>
public static class CommittedReader
{
    /// <summary>The cluster id prefix of librdkafka's mock cluster, the embedded broker.</summary>
    public const string EmbeddedClusterIdPrefix = "mockCluster";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>Reads <see cref="CommittedReaderOptions.Topic"/> and hands each committed record to <paramref name="emit"/>.</summary>
    /// <param name="options">What to read and how.</param>
    /// <param name="emit">Receives each committed record, partition by partition in offset order.</param>
    /// <param name="cancellation">Stops the read (following: the only way it ends, besides the record limit).</param>
    /// <param name="started">Called once the topics are found and reading begins.</param>
    /// <exception cref="InvalidOperationException">The topic (or, under the marker rule, the changelog) does not exist.</exception>
    /// <exception cref="KafkaException">The broker cannot be reached or refused the request.</exception>
    public static CommittedReadResult Read(CommittedReaderOptions options, Action<ConsumeResult<byte[], byte[]>> emit, CancellationToken cancellation, Action? started = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(emit);
        KafkaNative.EnsureLoaded();
        var marker = options.Isolation == ReadIsolation.Marker;
        var changelogs = marker ? options.ChangelogTopics.Distinct(StringComparer.Ordinal).ToList() : [];
        using var consumer = new ConsumerBuilder<byte[], byte[]>(ConsumerConfig(options)).SetLogHandler((_, _) => { }).Build();
        var partitions = PartitionCount(consumer, options.Topic, options.MetadataTimeout, "topic");

        // The changelogs are read from their beginning whatever the topic's start, for the markers of what is read.
        var changelogPartitions = changelogs.Where(t => t != options.Topic).SelectMany(t =>
            Enumerable.Range(0, PartitionCount(consumer, t, options.MetadataTimeout, "changelog (the marker rule reads the worker's changelog; see --changelog)")).Select(p => new TopicPartition(t, p))).ToList();
        var start = options.FromBeginning ? Offset.Beginning : Offset.End;
        started?.Invoke();

        long handed = 0;
        var full = false;
        void Hand(ConsumeResult<byte[], byte[]> record)
        {
            if (full)
            {
                return;
            }

            emit(record);
            handed++;
            full = options.MaxRecords > 0 && handed >= options.MaxRecords;
        }

        // Aborts are inferred from a writer's later marker only when its markers are all in one changelog, read in order.
        var markers = new TransactionMarkers<ConsumeResult<byte[], byte[]>>(Hand, inferAborts: changelogs.Count <= 1);

        // A snapshot reads every marker there is first, so that records are handed on in offset order whatever the
        // number of changelogs (a compacted copy repeats a writer's newest marker, which read first would release that
        // transaction before the earlier ones); following, markers and records are read together.
        var changelogStarts = options.Follow ? null : ReadMarkers(consumer, changelogPartitions, markers, cancellation);
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(options.Topic, p, start))
            .Concat(changelogPartitions.Select(tp => new TopicPartitionOffset(tp, changelogStarts is not null && changelogStarts.TryGetValue(tp, out var end) ? end : Offset.Beginning))));
        var topicAtEnd = new HashSet<int>();
        var changelogEnds = new Dictionary<TopicPartition, long>();
        Dictionary<TopicPartition, long>? changelogTargets = null;
        while (!cancellation.IsCancellationRequested && !full)
        {
            var result = consumer.Consume(Poll);
            if (result is not null)
            {
                var isTopic = result.Topic == options.Topic;
                var isChangelog = marker && changelogs.Contains(result.Topic);
                if (result.IsPartitionEOF)
                {
                    if (isTopic)
                    {
                        topicAtEnd.Add(result.Partition.Value);
                    }

                    if (isChangelog)
                    {
                        changelogEnds[result.TopicPartition] = result.Offset.Value;
                    }
                }
                else
                {
                    var stamp = marker ? Stamp(result.Message) : null;
                    if (isChangelog && stamp is not null && result.Message.Key is { } key && ChangelogKeys.IsOffsetKey(key))
                    {
                        markers.Marker(stamp);
                    }

                    if (isTopic)
                    {
                        if (marker)
                        {
                            markers.Record(stamp, result);
                        }
                        else
                        {
                            Hand(result);
                        }
                    }
                }
            }

            if (!options.Follow && topicAtEnd.Count == partitions)
            {
                // The topic is read: now the changelogs up to their ends as of this moment, for the markers of what was read.
                changelogTargets ??= changelogPartitions.ToDictionary(
                    tp => tp,
                    tp => consumer.QueryWatermarkOffsets(tp, options.MetadataTimeout).High.Value);
                if (changelogTargets.All(t => changelogEnds.TryGetValue(t.Key, out var end) && end >= t.Value))
                {
                    break;
                }
            }
        }

        consumer.Close();
        return new CommittedReadResult(handed, markers.Held, markers.Dropped);
    }

    /// <summary>
    /// True when <paramref name="bootstrapServers"/> is the embedded broker (librdkafka's mock cluster, recognised by its
    /// cluster id), which does not isolate transactions; false for any other broker.
    /// </summary>
    /// <exception cref="InvalidOperationException">No broker answered within <paramref name="timeout"/>, or a setting is rejected.</exception>
    public static bool IsEmbeddedBroker(string bootstrapServers, IReadOnlyList<KeyValuePair<string, string>> client, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(client);
        return ClusterIdentity.Of(bootstrapServers, client, timeout)?.StartsWith(EmbeddedClusterIdPrefix, StringComparison.Ordinal) == true;
    }

    /// <summary>True when the broker knows <paramref name="topic"/>.</summary>
    /// <exception cref="KafkaException">The broker cannot be reached.</exception>
    public static bool TopicExists(string bootstrapServers, IReadOnlyList<KeyValuePair<string, string>> client, string topic, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(client);
        KafkaNative.EnsureLoaded();
        var config = new AdminClientConfig { BootstrapServers = bootstrapServers };
        foreach (var (k, v) in client)
        {
            config.Set(k, v);
        }

        using var admin = new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build();
        return admin.GetMetadata(topic, timeout).Topics.Any(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0);
    }

    /// <summary>Reads changelog partitions to their ends for their offset markers; returns where each ended.</summary>
    private static Dictionary<TopicPartition, Offset> ReadMarkers(IConsumer<byte[], byte[]> consumer, List<TopicPartition> changelogPartitions, TransactionMarkers<ConsumeResult<byte[], byte[]>> markers, CancellationToken cancellation)
    {
        var ends = new Dictionary<TopicPartition, Offset>();
        if (changelogPartitions.Count == 0)
        {
            return ends;
        }

        consumer.Assign(changelogPartitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        while (ends.Count < changelogPartitions.Count && !cancellation.IsCancellationRequested)
        {
            var result = consumer.Consume(Poll);
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                ends[result.TopicPartition] = result.Offset;
            }
            else if (Stamp(result.Message) is { } stamp && result.Message.Key is { } key && ChangelogKeys.IsOffsetKey(key))
            {
                markers.Marker(stamp);
            }
        }

        consumer.Unassign();
        return ends;
    }

    private static ConsumerConfig ConsumerConfig(CommittedReaderOptions options)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,

            // Partitions are assigned, never subscribed: the group id is required by the client but never joined.
            GroupId = "streamseq-read-unused",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = true,

            // A snapshot ends at each partition's end, which is only known once a fetch there returns empty: at the
            // client's default (500 ms) a read of a few records took seconds. Same short wait as the changelog restore;
            // the caller's client settings below may change it.
            FetchWaitMaxMs = KafkaClientDefaults.RestoreFetchWaitMilliseconds,
        };
        foreach (var (k, v) in options.Client)
        {
            config.Set(k, v);
        }

        return config;
    }

    private static int PartitionCount(IConsumer<byte[], byte[]> consumer, string topic, TimeSpan timeout, string what)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
        return metadata is { Error.Code: ErrorCode.NoError, Partitions.Count: > 0 }
            ? metadata.Partitions.Count
            : throw new InvalidOperationException($"{what} '{topic}' does not exist ({metadata?.Error.Reason ?? "not in the broker's metadata"}).");
    }

    private static string? Stamp(Message<byte[], byte[]> message) =>
        message.Headers is { } headers && headers.TryGetLastBytes(ChangelogKeys.TransactionHeader, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
