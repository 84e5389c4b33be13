using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;
using static StreamSeq.Kafka.Tests.Embedded.EmbeddedKafkaTestKit;

namespace StreamSeq.Kafka.Tests.Transport;

/// <summary>Hand-written changelog partitions: state records and offset markers of named transactions, of input topic <see cref="Input"/>.</summary>
internal static class ChangelogRecords
{
    internal const string Input = "readings";

    internal static void Produce(StreamSeq.Kafka.Embedded.EmbeddedKafkaCluster cluster, string changelog, IEnumerable<(byte[] Key, byte[]? Value, string Transaction)> records)
    {
        using (var producer = new ProducerBuilder<byte[], byte[]?>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, EnableIdempotence = true }).SetLogHandler((_, _) => { }).Build())
        {
            foreach (var (key, value, transaction) in records)
            {
                producer.ProduceAsync(new TopicPartition(changelog, 0), new Message<byte[], byte[]?>
                {
                    Key = key,
                    Value = value,
                    Headers = [new Header(ChangelogKeys.TransactionHeader, Utf8($"{transaction}/0"))],
                }).GetAwaiter().GetResult();
            }
        }
    }

    internal static (byte[], byte[]?, string) State(string stream, string? value, string transaction) =>
        (Utf8(stream), value is null ? null : Utf8(value), transaction);

    internal static (byte[], byte[]?, string) Marker(int inputPartition, long nextOffset, string transaction) =>
        (ChangelogKeys.OffsetKey(Input, inputPartition), ChangelogKeys.OffsetValue(nextOffset), transaction);

    internal static List<string> Describe<T>(Dictionary<string, T> states)
        where T : class? =>
        [.. states.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={(s.Value is byte[] b ? Encoding.UTF8.GetString(b) : "(none)")}")];
}
