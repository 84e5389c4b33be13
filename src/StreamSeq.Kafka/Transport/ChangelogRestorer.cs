using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// Reads one changelog partition from its beginning to its end (read_committed, so aborted writes of a crashed
/// instance never come back) and returns the latest state bytes per stream and the input partition's next offset.
/// </summary>
internal sealed class ChangelogRestorer(ConsumerConfig config, TimeSpan patience)
{
    /// <summary>The latest state per stream and the offset marker of <paramref name="inputTopic"/>'s partition.</summary>
    public (Dictionary<string, byte[]> States, long? NextOffset, long Records) Restore(string changelogTopic, string inputTopic, int partition, CancellationToken cancellation)
    {
        var states = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long? nextOffset = null;
        long records = 0;
        var markerKey = ChangelogKeys.OffsetKey(inputTopic, partition);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(new TopicPartitionOffset(changelogTopic, partition, Offset.Beginning));
        var clock = Stopwatch.StartNew();
        var lastProgress = clock.Elapsed;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                if (clock.Elapsed - lastProgress > patience)
                {
                    throw new TimeoutException($"restoring {changelogTopic}[{partition}] made no progress for {patience} (read {records} records).");
                }

                continue;
            }

            lastProgress = clock.Elapsed;
            if (result.IsPartitionEOF)
            {
                break;
            }

            records++;
            var key = result.Message.Key;
            if (key is null)
            {
                continue;
            }

            if (ChangelogKeys.IsOffsetKey(key))
            {
                if (key.AsSpan().SequenceEqual(markerKey) && result.Message.Value is { } v)
                {
                    nextOffset = ChangelogKeys.ReadOffset(v);
                }

                continue;
            }

            var id = Encoding.UTF8.GetString(key);
            if (result.Message.Value is null)
            {
                states.Remove(id);
            }
            else
            {
                states[id] = result.Message.Value;
            }
        }

        consumer.Close();
        return (states, nextOffset, records);
    }
}
