using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// Copies a changelog as Apache Kafka's log cleaner leaves it after compacting every segment: records of transactions
/// that never committed are dropped, of the rest only the last record per key per partition is kept, in offset order,
/// with key, value (tombstones included) and headers unchanged. The embedded broker neither compacts nor hides aborted
/// records, so tests point a worker at such a copy to see what a restart after the cleaner ran would restore.
/// </summary>
/// <remarks>
/// A transaction counts as committed in a partition when its offset marker (the last record the worker writes for a
/// partition in a transaction) reached that partition, the rule the integration tests read outputs with. That is what
/// the broker would have decided: on Apache Kafka a record of an aborted transaction is never visible, and the cleaner
/// removes it without letting it shadow an older committed record of the same key.
/// </remarks>
internal static class ChangelogCleaner
{
    /// <summary>What a copy kept.</summary>
    /// <param name="Read">Records read from the source (all partitions).</param>
    /// <param name="Uncommitted">Records dropped because their transaction never committed.</param>
    /// <param name="Kept">Records written to the copy.</param>
    /// <param name="Markers">Offset markers in the copy (one per partition that has any).</param>
    public sealed record Outcome(int Read, int Uncommitted, int Kept, int Markers);

    public static Outcome Compact(string bootstrapServers, string source, string target, int partitions)
    {
        int read = 0, uncommitted = 0, kept = 0, markers = 0;
        var config = new ProducerConfig { BootstrapServers = bootstrapServers, EnableIdempotence = true, LingerMs = 5, MessageMaxBytes = 20_000_000 };
        using var producer = new ProducerBuilder<byte[], byte[]?>(config).SetLogHandler((_, _) => { }).Build();
        for (var p = 0; p < partitions; p++)
        {
            var records = ReadPartition(bootstrapServers, source, p);
            read += records.Count;
            var committed = records
                .Where(r => r.Key is { Length: > 0 } k && ChangelogKeys.IsOffsetKey(k))
                .Select(Stamp)
                .OfType<string>()
                .ToHashSet(StringComparer.Ordinal);
            var last = new Dictionary<string, int>(StringComparer.Ordinal);
            var survivors = new List<Message<byte[], byte[]?>>();
            for (var i = 0; i < records.Count; i++)
            {
                if (Stamp(records[i]) is { } stamp && !committed.Contains(stamp))
                {
                    uncommitted++;
                    continue;
                }

                survivors.Add(records[i]);
                last[Convert.ToBase64String(records[i].Key ?? [])] = survivors.Count - 1;
            }

            var keep = last.Values.Order().ToList();
            foreach (var index in keep)
            {
                var m = survivors[index];
                producer.ProduceAsync(new TopicPartition(target, p), new Message<byte[], byte[]?> { Key = m.Key, Value = m.Value, Headers = m.Headers }).GetAwaiter().GetResult();
                kept++;
                if (m.Key is { Length: > 0 } key && ChangelogKeys.IsOffsetKey(key))
                {
                    markers++;
                }
            }
        }

        return new Outcome(read, uncommitted, kept, markers);
    }

    /// <summary>One partition's records from its beginning to its end, tombstones included, in offset order.</summary>
    public static List<Message<byte[], byte[]?>> ReadPartition(string bootstrapServers, string topic, int partition)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "cleaner-unused",
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        using var consumer = new ConsumerBuilder<byte[], byte[]?>(config).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, partition, Offset.Beginning));
        var records = new List<Message<byte[], byte[]?>>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"reading {topic}[{partition}]: no end after {records.Count} records");
            }

            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null)
            {
                continue;
            }

            if (r.IsPartitionEOF)
            {
                break;
            }

            records.Add(r.Message);
        }

        consumer.Close();
        return records;
    }

    private static string? Stamp(Message<byte[], byte[]?> m) =>
        m.Headers is { } h && h.TryGetLastBytes(ChangelogKeys.TransactionHeader, out var tx) ? Encoding.UTF8.GetString(tx) : null;
}
