using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;

namespace StreamSeq.Kafka.Tests.Embedded;

/// <summary>
/// Shared plumbing for the integration tests on the embedded broker: cluster start-up with fast group settings,
/// clients built from <see cref="KafkaClientDefaults"/> (the worker's settings), and bounded read/wait helpers.
/// </summary>
internal static class EmbeddedKafkaTestKit
{
    /// <summary>Upper bound for any single wait; tests normally finish far sooner.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts a cluster with group settings that keep tests fast: no initial rebalance delay for classic groups and a
    /// 250 ms broker heartbeat interval for KIP-848 groups.
    /// </summary>
    public static EmbeddedKafkaCluster StartCluster(int brokerCount = 1)
    {
        var cluster = EmbeddedKafkaCluster.Start(brokerCount);
        cluster.SetInitialRebalanceDelay(TimeSpan.Zero);
        cluster.SetConsumerGroupHeartbeatInterval(TimeSpan.FromMilliseconds(250));
        return cluster;
    }

    /// <summary>A name no other test uses (topics, groups, transactional ids).</summary>
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>The worker's transactional producer, collecting client-level errors into <paramref name="errors"/>.</summary>
    public static IProducer<string, string> TransactionalProducer(
        EmbeddedKafkaCluster cluster, string transactionalId, List<Error>? errors = null) =>
        new ProducerBuilder<string, string>(KafkaClientDefaults.TransactionalProducer(cluster.BootstrapServers, transactionalId))
            .SetErrorHandler((_, error) =>
            {
                if (errors is null)
                {
                    return;
                }

                lock (errors)
                {
                    errors.Add(error);
                }
            })
            .SetLogHandler((_, _) => { })
            .Build();

    /// <summary>
    /// Reads one partition from its beginning until partition EOF with the worker's changelog-restore consumer
    /// (optionally at another isolation level), as state restore does.
    /// </summary>
    /// <returns>The records in offset order and the offset at which EOF was reported.</returns>
    public static (List<ConsumeResult<string, string>> Records, long EndOffset) ReadToEnd(
        EmbeddedKafkaCluster cluster, string topic, int partition = 0, IsolationLevel isolation = IsolationLevel.ReadCommitted)
    {
        var config = KafkaClientDefaults.ChangelogRestoreConsumer(cluster.BootstrapServers);
        config.IsolationLevel = isolation;
        config.ConsumeResultFields = "all"; // the restore settings skip topic and timestamp; these tests check them
        using var consumer = new ConsumerBuilder<string, string>(config).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, partition, Offset.Beginning));
        var records = new List<ConsumeResult<string, string>>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                consumer.Close();
                return (records, result.Offset.Value);
            }

            records.Add(result);
        }

        throw new TimeoutException($"No partition EOF on {topic}[{partition}] within {Patience}; read {records.Count} record(s).");
    }

    /// <summary>Values of <see cref="ReadToEnd"/>'s records, in order.</summary>
    public static List<string> ReadValues(
        EmbeddedKafkaCluster cluster, string topic, int partition = 0, IsolationLevel isolation = IsolationLevel.ReadCommitted) =>
        ReadToEnd(cluster, topic, partition, isolation).Records.ConvertAll(r => r.Message.Value);

    /// <summary>Calls <paramref name="pump"/> until <paramref name="condition"/> holds, or fails after <see cref="Patience"/>.</summary>
    public static void PumpUntil(Func<bool> condition, Action pump, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Patience)
            {
                throw new TimeoutException($"Timed out after {Patience} waiting for {what}.");
            }

            pump();
        }
    }

    /// <summary>UTF-8 bytes of a header value.</summary>
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
