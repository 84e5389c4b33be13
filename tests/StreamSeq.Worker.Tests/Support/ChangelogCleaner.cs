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

    public static Outcome Compact(KafkaTestBed bed, string source, string target)
    {
        int read = 0, uncommitted = 0, kept = 0, markers = 0;
        var config = new ProducerConfig { BootstrapServers = bed.Cluster.BootstrapServers, EnableIdempotence = true, LingerMs = 5, MessageMaxBytes = 20_000_000 };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        for (var p = 0; p < KafkaTestBed.InputPartitions; p++)
        {
            var records = bed.ReadPartition(source, p);
            read += records.Count;
            var committed = records
                .Where(r => r.Key is { Length: > 0 } k && ChangelogKeys.IsOffsetKey(k))
                .Select(Stamp)
                .OfType<string>()
                .ToHashSet(StringComparer.Ordinal);
            var last = new Dictionary<string, int>(StringComparer.Ordinal);
            var survivors = new List<Message<byte[], byte[]>>();
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
                producer.ProduceAsync(new TopicPartition(target, p), new Message<byte[], byte[]> { Key = m.Key, Value = m.Value, Headers = m.Headers }).GetAwaiter().GetResult();
                kept++;
                if (m.Key is { Length: > 0 } key && ChangelogKeys.IsOffsetKey(key))
                {
                    markers++;
                }
            }
        }

        return new Outcome(read, uncommitted, kept, markers);
    }

    private static string? Stamp(Message<byte[], byte[]> m) =>
        m.Headers is { } h && h.TryGetLastBytes(ChangelogKeys.TransactionHeader, out var tx) ? Encoding.UTF8.GetString(tx) : null;
}
