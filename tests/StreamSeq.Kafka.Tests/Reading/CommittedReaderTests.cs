using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Reading;
using StreamSeq.Kafka.Tests.Embedded;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Kafka.Tests.Reading;

/// <summary>
/// Reading committed records on the embedded broker, which shows read_committed readers the records of aborted
/// transactions: the broker rule lets them through (the known gap), the marker rule does not.
/// </summary>
public sealed class CommittedReaderTests
{
    [Fact]
    public void Read_AbortedAndCommittedWorkerTransactions_MarkerRuleKeepsOnlyCommittedBrokerRuleShowsBoth()
    {
        using var cluster = EmbeddedKafkaTestKit.StartCluster();
        var outputs = EmbeddedKafkaTestKit.Unique("out");
        var changelog = EmbeddedKafkaTestKit.Unique("changelog");
        cluster.CreateTopic(outputs, 2);
        cluster.CreateTopic(changelog, 1);
        using (var producer = EmbeddedKafkaTestKit.TransactionalProducer(cluster, EmbeddedKafkaTestKit.Unique("tx")))
        {
            producer.InitTransactions(EmbeddedKafkaTestKit.Patience);

            // Transaction 1 commits: outputs, then its marker. Transaction 2 aborts before its marker.
            // Transaction 3 commits. Plus a record written outside any worker transaction (no stamp).
            Transaction(producer, outputs, changelog, "w/run/1/0", ["a1", "a2"], commit: true);
            Transaction(producer, outputs, changelog, "w/run/2/0", ["b1"], commit: false);
            Transaction(producer, outputs, changelog, "w/run/3/0", ["c1"], commit: true);
        }

        using (var plain = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).SetLogHandler((_, _) => { }).Build())
        {
            plain.Produce(new TopicPartition(outputs, 1), new Message<string, string> { Key = "k", Value = "plain" });
            plain.Flush(EmbeddedKafkaTestKit.Patience);
        }

        var (markerRead, markerResult) = Read(cluster, outputs, changelog, ReadIsolation.Marker);
        var (brokerRead, _) = Read(cluster, outputs, changelog, ReadIsolation.Broker);

        Assert.Equal(["a1", "a2", "c1", "plain"], markerRead.Order(StringComparer.Ordinal));
        Assert.Equal(["a1", "a2", "b1", "c1", "plain"], brokerRead.Order(StringComparer.Ordinal));
        Assert.Equal(1, markerResult.Dropped + markerResult.Uncommitted);
        Assert.True(CommittedReader.IsEmbeddedBroker(cluster.BootstrapServers, [], TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Read_MarkersInTwoChangelogs_EitherCommitsItsTransactions()
    {
        // Workers moved to another changelog (say a compacted copy) part of the way: the markers of both count.
        using var cluster = EmbeddedKafkaTestKit.StartCluster();
        var outputs = EmbeddedKafkaTestKit.Unique("out");
        var first = EmbeddedKafkaTestKit.Unique("changelog");
        var second = EmbeddedKafkaTestKit.Unique("changelog-copy");
        cluster.CreateTopic(outputs, 1);
        cluster.CreateTopic(first, 1);
        cluster.CreateTopic(second, 2);
        using (var producer = EmbeddedKafkaTestKit.TransactionalProducer(cluster, EmbeddedKafkaTestKit.Unique("tx")))
        {
            producer.InitTransactions(EmbeddedKafkaTestKit.Patience);
            Transaction(producer, outputs, first, "w/run/1/0", ["before"], commit: true);
            Transaction(producer, outputs, second, "w2/run/1/0", ["after"], commit: true);
            Transaction(producer, outputs, second, "w2/run/2/0", ["aborted"], commit: false);
        }

        var values = new List<string>();
        CommittedReader.Read(
            new CommittedReaderOptions { BootstrapServers = cluster.BootstrapServers, Topic = outputs, ChangelogTopics = [first, second], Isolation = ReadIsolation.Marker },
            r => values.Add(Encoding.UTF8.GetString(r.Message.Value)),
            CancellationToken.None);

        Assert.Equal(["before", "after"], values);
    }

    [Fact]
    public void Read_CompactedCopyAmongTheChangelogs_EveryCommittedRecordOnceInOffsetOrder()
    {
        // One writer commits three transactions; the cleaner's copy of the changelog keeps only the newest marker.
        using var cluster = EmbeddedKafkaTestKit.StartCluster();
        var outputs = EmbeddedKafkaTestKit.Unique("out");
        var original = EmbeddedKafkaTestKit.Unique("changelog");
        var copy = EmbeddedKafkaTestKit.Unique("changelog-copy");
        cluster.CreateTopic(outputs, 1);
        cluster.CreateTopic(original, 1);
        cluster.CreateTopic(copy, 1);
        using (var producer = EmbeddedKafkaTestKit.TransactionalProducer(cluster, EmbeddedKafkaTestKit.Unique("tx")))
        {
            producer.InitTransactions(EmbeddedKafkaTestKit.Patience);
            Transaction(producer, outputs, original, "w/run/1/0", ["one", "two"], commit: true);
            Transaction(producer, outputs, original, "w/run/2/0", ["three"], commit: true);
            Transaction(producer, outputs, original, "w/run/3/0", ["four"], commit: true);
            Transaction(producer, outputs, copy, "w/run/3/0", [], commit: true);
        }

        var values = new List<string>();
        CommittedReader.Read(
            new CommittedReaderOptions { BootstrapServers = cluster.BootstrapServers, Topic = outputs, ChangelogTopics = [copy, original], Isolation = ReadIsolation.Marker },
            r => values.Add(Encoding.UTF8.GetString(r.Message.Value)),
            CancellationToken.None);

        Assert.Equal(["one", "two", "three", "four"], values);
    }

    [Fact]
    public void Read_MaxRecords_StopsThere()
    {
        using var cluster = EmbeddedKafkaTestKit.StartCluster();
        var topic = EmbeddedKafkaTestKit.Unique("many");
        cluster.CreateTopic(topic, 1);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).SetLogHandler((_, _) => { }).Build())
        {
            for (var i = 0; i < 20; i++)
            {
                producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"{i}" });
            }

            producer.Flush(EmbeddedKafkaTestKit.Patience);
        }

        var seen = new List<string>();
        var result = CommittedReader.Read(new CommittedReaderOptions { BootstrapServers = cluster.BootstrapServers, Topic = topic, MaxRecords = 7 }, r => seen.Add(Encoding.UTF8.GetString(r.Message.Value)), CancellationToken.None);

        Assert.Equal(7, result.Records);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"{i}"), seen);
    }

    [Fact]
    public void Read_TopicThatDoesNotExist_FailsNamingIt()
    {
        using var cluster = EmbeddedKafkaTestKit.StartCluster();

        var e = Assert.Throws<InvalidOperationException>(() => CommittedReader.Read(new CommittedReaderOptions { BootstrapServers = cluster.BootstrapServers, Topic = "nowhere" }, _ => { }, CancellationToken.None));

        Assert.Contains("'nowhere'", e.Message, StringComparison.Ordinal);
    }

    private static void Transaction(IProducer<string, string> producer, string outputs, string changelog, string stamp, string[] values, bool commit)
    {
        var headers = new Headers { { ChangelogKeys.TransactionHeader, Encoding.UTF8.GetBytes(stamp) } };
        producer.BeginTransaction();
        foreach (var value in values)
        {
            producer.Produce(new TopicPartition(outputs, 0), new Message<string, string> { Key = "k", Value = value, Headers = headers });
        }

        if (commit)
        {
            // The marker: the input partition's next offset under the reserved key, last in the transaction.
            producer.Produce(changelog, new Message<string, string> { Key = Encoding.UTF8.GetString(ChangelogKeys.OffsetKey("in", 0)), Value = "12345678", Headers = headers });
            producer.CommitTransaction(EmbeddedKafkaTestKit.Patience);
        }
        else
        {
            producer.Flush(EmbeddedKafkaTestKit.Patience);
            producer.AbortTransaction(EmbeddedKafkaTestKit.Patience);
        }
    }

    private static (List<string> Values, CommittedReadResult Result) Read(StreamSeq.Kafka.Embedded.EmbeddedKafkaCluster cluster, string topic, string changelog, ReadIsolation isolation)
    {
        var values = new List<string>();
        var result = CommittedReader.Read(
            new CommittedReaderOptions { BootstrapServers = cluster.BootstrapServers, Topic = topic, ChangelogTopics = [changelog], Isolation = isolation },
            r => values.Add(Encoding.UTF8.GetString(r.Message.Value)),
            CancellationToken.None);
        return (values, result);
    }
}
