using System.Globalization;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using static StreamSeq.Kafka.Tests.Embedded.EmbeddedKafkaTestKit;

namespace StreamSeq.Kafka.Tests.Embedded;

public sealed class ProduceConsumeTests
{
    [Fact]
    public void Produce_WithHeadersAndCreateTimestamps_ConsumerSeesTheSameRecords()
    {
        using var cluster = StartCluster();
        var topic = Unique("plain");
        cluster.CreateTopic(topic);
        var origin = new DateTime(2024, 3, 1, 12, 0, 0, DateTimeKind.Utc);
        var sent = Enumerable.Range(0, 5).Select(i => new Message<string, string>
        {
            Key = $"sensor-{i % 2}",
            Value = $"{{\"values\":[{i}]}}",
            Timestamp = new Timestamp(origin.AddSeconds(i)),
            Headers = new Headers { { "kind", Utf8("filtered") }, { "seq", Utf8(i.ToString(CultureInfo.InvariantCulture)) } },
        }).ToList();

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            foreach (var message in sent)
            {
                producer.Produce(topic, message);
            }

            Assert.Equal(0, producer.Flush(Patience));
        }

        var received = ReadToEnd(cluster, topic).Records;
        Assert.Equal(sent.Count, received.Count);
        for (var i = 0; i < sent.Count; i++)
        {
            var got = received[i].Message;
            Assert.Equal(sent[i].Key, got.Key);
            Assert.Equal(sent[i].Value, got.Value);
            Assert.Equal(TimestampType.CreateTime, got.Timestamp.Type);
            Assert.Equal(sent[i].Timestamp.UnixTimestampMs, got.Timestamp.UnixTimestampMs);
            Assert.Equal(
                sent[i].Headers.Select(h => (h.Key, Convert.ToHexString(h.GetValueBytes()))),
                got.Headers.Select(h => (h.Key, Convert.ToHexString(h.GetValueBytes()))));
        }
    }

    [Fact]
    public void Produce_WithoutTimestamp_BrokerRecordsAClientCreateTimeNearNow()
    {
        using var cluster = StartCluster();
        var topic = Unique("now");
        cluster.CreateTopic(topic);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            producer.Produce(topic, new Message<Null, string> { Value = "x" });
            Assert.Equal(0, producer.Flush(Patience));
        }

        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var record = Assert.Single(ReadToEnd(cluster, topic).Records);
        Assert.Equal(TimestampType.CreateTime, record.Message.Timestamp.Type);
        Assert.InRange(record.Message.Timestamp.UnixTimestampMs, before, after);
    }

    [Fact]
    public void IdempotentProducer_InjectedRetriableProduceErrors_WritesEachRecordOnceInOrder()
    {
        using var cluster = StartCluster();
        var topic = Unique("idempotent");
        cluster.CreateTopic(topic);
        var config = KafkaClientDefaults.TransactionalProducer(cluster.BootstrapServers, "unused");
        config.TransactionalId = null; // idempotent only
        config.LingerMs = 0;
        cluster.PushRequestErrors(
            KafkaApiKey.Produce,
            ErrorCode.NotEnoughReplicas,
            ErrorCode.RequestTimedOut,
            ErrorCode.NotLeaderForPartition,
            ErrorCode.Local_Transport,
            ErrorCode.NotEnoughReplicasAfterAppend);
        var failures = 0;

        using (var producer = new ProducerBuilder<Null, string>(config).SetLogHandler((_, _) => { }).Build())
        {
            for (var i = 0; i < 200; i++)
            {
                producer.Produce(
                    topic,
                    new Message<Null, string> { Value = i.ToString(CultureInfo.InvariantCulture) },
                    report => { if (report.Error.IsError) { Interlocked.Increment(ref failures); } });
            }

            Assert.Equal(0, producer.Flush(Patience));
        }

        Assert.Equal(0, failures);
        var values = ReadValues(cluster, topic);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i.ToString(CultureInfo.InvariantCulture)), values);
    }
}
