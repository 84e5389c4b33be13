using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// Reads changelog partitions from their beginning to their end (read_committed, so aborted writes of a crashed
/// instance never come back) and returns, per partition, the latest state bytes per stream and the input partition's
/// next offset. All partitions of one assignment are read by one consumer at once.
/// </summary>
internal sealed class ChangelogRestorer(ConsumerConfig config, TimeSpan patience)
{
    private byte[] lastStampBytes = [];
    private string? lastStamp;

    /// <summary>What one changelog partition holds.</summary>
    public sealed class Result
    {
        /// <summary>Latest state per stream.</summary>
        public Dictionary<string, byte[]> States { get; } = new(StringComparer.Ordinal);

        /// <summary>The input partition's next offset, when a marker was found.</summary>
        public long? NextOffset { get; set; }

        /// <summary>State records ignored because their transaction never wrote its offset marker.</summary>
        public long Ignored { get; set; }

        /// <summary>Changelog records read.</summary>
        public long Records { get; set; }
    }

    /// <summary>Restores the given partitions.</summary>
    public Dictionary<int, Result> Restore(string changelogTopic, string inputTopic, IReadOnlyCollection<int> partitions, CancellationToken cancellation)
    {
        var results = partitions.ToDictionary(p => p, _ => new Result());
        if (partitions.Count == 0)
        {
            return results;
        }

        var markers = partitions.ToDictionary(p => p, p => ChangelogKeys.OffsetKey(inputTopic, p));
        var uncommitted = partitions.ToDictionary(p => p, _ => new List<(string Transaction, string Stream, byte[]? Value)>());
        var pending = new HashSet<int>(partitions);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        WarmMetadata(consumer, changelogTopic, TimeSpan.FromSeconds(Math.Min(5, patience.TotalSeconds)));
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(changelogTopic, p, Offset.Beginning)));
        var clock = Stopwatch.StartNew();
        var lastProgress = clock.Elapsed;
        while (pending.Count > 0)
        {
            cancellation.ThrowIfCancellationRequested();
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

            var transaction = message.Message.Headers is { } h && h.TryGetLastBytes(ChangelogKeys.TransactionHeader, out var t) ? Stamp(t) : null;
            var buffered = uncommitted[partition];
            if (ChangelogKeys.IsOffsetKey(key))
            {
                if (key.AsSpan().SequenceEqual(markers[partition]) && message.Message.Value is { } v)
                {
                    result.NextOffset = ChangelogKeys.ReadOffset(v);

                    // The marker closes its transaction in this partition: its states count, any others never committed.
                    foreach (var (tx, stream, value) in buffered)
                    {
                        if (tx == transaction)
                        {
                            Apply(result, stream, value);
                        }
                        else
                        {
                            result.Ignored++;
                        }
                    }

                    buffered.Clear();
                }

                continue;
            }

            var id = Encoding.UTF8.GetString(key);
            if (transaction is null)
            {
                Apply(result, id, message.Message.Value);
            }
            else
            {
                buffered.Add((transaction, id, message.Message.Value));
            }
        }

        consumer.Close();
        foreach (var (partition, buffered) in uncommitted)
        {
            results[partition].Ignored += buffered.Count;
        }

        return results;
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

    /// <summary>
    /// The transaction stamp as a string; a transaction's records arrive together, so the previous stamp's string is
    /// reused while the bytes match instead of decoding one per record.
    /// </summary>
    private string Stamp(byte[] bytes)
    {
        if (lastStamp is null || !bytes.AsSpan().SequenceEqual(lastStampBytes))
        {
            lastStampBytes = bytes;
            lastStamp = Encoding.UTF8.GetString(bytes);
        }

        return lastStamp;
    }

    private static void Apply(Result result, string stream, byte[]? value)
    {
        if (value is null)
        {
            result.States.Remove(stream);
        }
        else
        {
            result.States[stream] = value;
        }
    }
}
