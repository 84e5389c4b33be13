using System.Globalization;
using Confluent.Kafka;
using static StreamSeq.Kafka.Tests.Embedded.EmbeddedKafkaTestKit;

namespace StreamSeq.Kafka.Tests.Embedded;

/// <summary>
/// Transactions as the worker uses them. Tests named ...OnMock... pin behaviour in which librdkafka's mock broker
/// differs from Apache Kafka (no last stable offset, no aborted-transaction index, no fencing on re-initialisation);
/// they fail if a later librdkafka closes the gap, which is the signal to revisit docs/kafka-embedded.md.
/// </summary>
public sealed class TransactionTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void CommitTransaction_ProducesToTwoTopics_BothVisibleToReadCommittedReader()
    {
        using var cluster = StartCluster();
        var output = Unique("out");
        var changelog = Unique("changelog");
        cluster.CreateTopic(output);
        cluster.CreateTopic(changelog);

        using var producer = TransactionalProducer(cluster, Unique("tx"));
        producer.InitTransactions(CallTimeout);
        producer.BeginTransaction();
        for (var i = 0; i < 3; i++)
        {
            producer.Produce(output, new Message<string, string> { Key = "s1", Value = $"out-{i}" });
            producer.Produce(changelog, new Message<string, string> { Key = "s1", Value = $"state-{i}" });
        }

        producer.CommitTransaction(CallTimeout);

        var (outputs, outputEnd) = ReadToEnd(cluster, output);
        Assert.Equal(["out-0", "out-1", "out-2"], outputs.Select(r => r.Message.Value));
        Assert.Equal(["state-0", "state-1", "state-2"], ReadValues(cluster, changelog));

        // The commit marker takes an offset of its own: EOF lies one past the last data record.
        Assert.Equal(outputs[^1].Offset.Value + 2, outputEnd);
    }

    [Fact]
    public void ReadToEnd_ChangelogWithSeveralCommittedTransactions_ReachesEofAtHighWatermark()
    {
        using var cluster = StartCluster();
        var changelog = Unique("changelog");
        cluster.CreateTopic(changelog);
        using var producer = TransactionalProducer(cluster, Unique("tx"));
        producer.InitTransactions(CallTimeout);
        var expected = new List<string>();
        for (var txn = 0; txn < 5; txn++)
        {
            producer.BeginTransaction();
            for (var i = 0; i < 4; i++)
            {
                var value = string.Create(CultureInfo.InvariantCulture, $"{txn}.{i}");
                producer.Produce(changelog, new Message<string, string> { Key = $"s{i}", Value = value });
                expected.Add(value);
            }

            producer.CommitTransaction(CallTimeout);
        }

        var (records, end) = ReadToEnd(cluster, changelog);

        Assert.Equal(expected, records.Select(r => r.Message.Value));
        using var probe = new ConsumerBuilder<string, string>(KafkaClientDefaults.ChangelogRestoreConsumer(cluster.BootstrapServers)).Build();
        var watermarks = probe.QueryWatermarkOffsets(new TopicPartition(changelog, 0), CallTimeout);
        Assert.Equal(watermarks.High.Value, end);
        Assert.Equal(20 + 5, end); // 20 records and 5 commit markers
    }

    [Fact]
    public void AbortTransaction_OnMock_AbortedRecordsAreStillDeliveredToReadCommittedReaders()
    {
        using var cluster = StartCluster();
        var topic = Unique("aborted");
        cluster.CreateTopic(topic);
        using var producer = TransactionalProducer(cluster, Unique("tx"));
        producer.InitTransactions(CallTimeout);

        producer.BeginTransaction();
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "committed-1" });
        producer.CommitTransaction(CallTimeout);
        producer.BeginTransaction();
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "aborted" });
        producer.Flush(CallTimeout);
        producer.AbortTransaction(CallTimeout);
        producer.BeginTransaction();
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "committed-2" });
        producer.CommitTransaction(CallTimeout);

        // Apache Kafka would return only committed-1 and committed-2: its fetch response lists aborted transactions
        // and the client drops them. The mock always sends an empty list, so read_committed sees everything.
        var (records, end) = ReadToEnd(cluster, topic);
        Assert.Equal(["committed-1", "aborted", "committed-2"], records.Select(r => r.Message.Value));
        Assert.Equal(6, end); // three records and three markers (commit, abort, commit)
    }

    [Fact]
    public void OpenTransaction_OnMock_DoesNotHoldBackReadCommittedReaders()
    {
        using var cluster = StartCluster();
        var topic = Unique("open");
        cluster.CreateTopic(topic);
        using var open = TransactionalProducer(cluster, Unique("tx"));
        open.InitTransactions(CallTimeout);
        open.BeginTransaction();
        open.Produce(topic, new Message<string, string> { Key = "k", Value = "uncommitted" });
        open.Flush(CallTimeout);
        using var plain = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        plain.Produce(topic, new Message<string, string> { Key = "k", Value = "later" });
        plain.Flush(CallTimeout);

        // Apache Kafka stops read_committed fetches at the last stable offset (before "uncommitted") until the
        // transaction ends; the mock reports the high watermark as the last stable offset.
        Assert.Equal(["uncommitted", "later"], ReadValues(cluster, topic));
    }

    [Fact]
    public void InitTransactions_SameIdAfterProducerKilledMidTransaction_NewInstanceCommitsAndReadersReachEof()
    {
        using var cluster = StartCluster();
        var topic = Unique("restart");
        cluster.CreateTopic(topic);
        var transactionalId = Unique("tx");

        var killed = TransactionalProducer(cluster, transactionalId);
        killed.InitTransactions(CallTimeout);
        killed.BeginTransaction();
        killed.Produce(topic, new Message<string, string> { Key = "k", Value = "orphan" });
        killed.Flush(CallTimeout);
        killed.Dispose(); // no commit, no abort: what a crash leaves behind

        using var successor = TransactionalProducer(cluster, transactionalId);
        successor.InitTransactions(CallTimeout);
        successor.BeginTransaction();
        successor.Produce(topic, new Message<string, string> { Key = "k", Value = "after-restart" });
        successor.CommitTransaction(CallTimeout);

        var (records, end) = ReadToEnd(cluster, topic);
        Assert.Equal("after-restart", records[^1].Message.Value);
        Assert.Equal(records[^1].Offset.Value + 2, end);

        // Apache Kafka aborts the orphan transaction when the successor initialises (writing an abort marker), so
        // read_committed readers never see "orphan". The mock hands out a fresh producer id instead and neither
        // aborts nor marks the orphan, so it stays visible.
        Assert.Equal(["orphan", "after-restart"], records.Select(r => r.Message.Value));
    }

    [Fact]
    public void InitTransactions_SameIdWhileOldInstanceAlive_OnMock_OldInstanceIsNotFenced()
    {
        using var cluster = StartCluster();
        var topic = Unique("zombie");
        cluster.CreateTopic(topic);
        var transactionalId = Unique("tx");
        using var zombie = TransactionalProducer(cluster, transactionalId);
        zombie.InitTransactions(CallTimeout);
        zombie.BeginTransaction();
        zombie.Produce(topic, new Message<string, string> { Key = "k", Value = "zombie-1" });
        zombie.Flush(CallTimeout);

        using var successor = TransactionalProducer(cluster, transactionalId);
        successor.InitTransactions(CallTimeout);
        zombie.Produce(topic, new Message<string, string> { Key = "k", Value = "zombie-2" });

        // Apache Kafka bumps the epoch for the transactional id, so this commit fails with a fatal fencing error.
        // The mock issues an unrelated producer id and the zombie commits happily.
        zombie.CommitTransaction(CallTimeout);
        Assert.Equal(["zombie-1", "zombie-2"], ReadValues(cluster, topic));
    }
}
