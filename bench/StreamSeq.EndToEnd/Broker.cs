using System.Diagnostics;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Native;

namespace StreamSeq.EndToEnd;

/// <summary>The embedded broker with helpers to produce input and count committed output.</summary>
internal sealed class Broker : IDisposable
{
    public const int InputPartitions = 4;

    /// <summary>Outputs get many partitions so none nears the embedded broker's 5 MiB retention per partition.</summary>
    public const int OutputPartitions = 32;

    private int topicCounter;

    public Broker()
    {
        KafkaNative.EnsureLoaded();
        Cluster = EmbeddedKafkaCluster.Start(1);
        Cluster.SetInitialRebalanceDelay(TimeSpan.Zero);
        Cluster.SetConsumerGroupHeartbeatInterval(TimeSpan.FromMilliseconds(250));
        Cluster.SetConsumerGroupSessionTimeout(TimeSpan.FromSeconds(6));
    }

    public EmbeddedKafkaCluster Cluster { get; }

    public string BootstrapServers => Cluster.BootstrapServers;

    /// <summary>A fresh topic name with the given partitions.</summary>
    public string NewTopic(string purpose, int partitions)
    {
        var name = $"e2e.{Interlocked.Increment(ref topicCounter)}.{purpose}";
        Cluster.CreateTopic(name, partitions);
        return name;
    }

    /// <summary>Produces keyed records (default partitioner: by key) and waits until all are acknowledged.</summary>
    public void Produce(string topic, IReadOnlyList<(byte[] Key, byte[] Value)> records)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            EnableIdempotence = true,
            LingerMs = 20,
            BatchNumMessages = 10_000,
            QueueBufferingMaxMessages = 1_000_000,
        }).SetLogHandler((_, _) => { }).Build();
        foreach (var (key, value) in records)
        {
            ProduceWithBackpressure(producer, topic, new Message<byte[], byte[]> { Key = key, Value = value });
        }

        producer.Flush(TimeSpan.FromSeconds(60));
    }

    public static void ProduceWithBackpressure(IProducer<byte[], byte[]> producer, string topic, Message<byte[], byte[]> message)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message);
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(5));
            }
        }
    }

    /// <summary>Counts the committed records of a topic (read_committed, to the end of every partition).</summary>
    public long CountCommitted(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = "e2e-counter-unused",
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var pending = new HashSet<int>(Enumerable.Range(0, partitions));
        long count = 0;
        var clock = Stopwatch.StartNew();
        while (pending.Count > 0)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"counting {topic}: partitions [{string.Join(",", pending)}] never reached their end.");
            }

            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null)
            {
                continue;
            }

            if (r.IsPartitionEOF)
            {
                pending.Remove(r.Partition.Value);
            }
            else
            {
                count++;
            }
        }

        consumer.Close();
        return count;
    }

    public void Dispose() => Cluster.Dispose();
}
