using System.Diagnostics;
using Confluent.Kafka;
using StreamSeq.Kafka;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.EndToEnd;

/// <summary>
/// The baseline: the worker's consume-produce-commit loop with exactly the worker's client settings and transaction
/// cadence (commit interval, batch size, offsets sent to the transaction, <see cref="KafkaTransportOptions.Client"/>
/// pass-through settings, no per-message delivery reports) but no computation: every input record is copied to one
/// output record, and no changelog is written.
/// </summary>
internal sealed class PassThroughLoop(KafkaTransportOptions options, string outputTopic)
{
    private readonly Dictionary<int, long> nextOffsets = [];

    public long Processed => Volatile.Read(ref processed);

    public long Commits => Volatile.Read(ref commits);

    public int AssignedPartitions => Volatile.Read(ref assigned);

    /// <summary>Stopwatch timestamp of the last commit.</summary>
    public long LastCommitTimestamp => Volatile.Read(ref lastCommit);

    private long processed;
    private long commits;
    private int assigned;
    private long lastCommit;

    public void Run(CancellationToken stop)
    {
        var producerConfig = KafkaClientDefaults.TransactionalProducer(options.BootstrapServers, $"{options.GroupId}-{options.EffectiveInstanceId}");
        producerConfig.TransactionTimeoutMs = (int)options.TransactionTimeout.TotalMilliseconds;
        producerConfig.MessageTimeoutMs = (int)options.TransactionTimeout.TotalMilliseconds;
        producerConfig.QueueBufferingMaxMessages = 1_000_000;
        producerConfig.EnableDeliveryReports = false;
        var protocol = options.GroupProtocol == "consumer" ? GroupProtocol.Consumer : GroupProtocol.Classic;
        var consumerConfig = KafkaClientDefaults.InputConsumer(options.BootstrapServers, options.GroupId, protocol);
        if (protocol == GroupProtocol.Classic)
        {
            consumerConfig.SessionTimeoutMs = (int)options.SessionTimeout.TotalMilliseconds;
            consumerConfig.HeartbeatIntervalMs = Math.Max(100, (int)options.SessionTimeout.TotalMilliseconds / 5);
        }

        foreach (var (key, value) in options.Client)
        {
            producerConfig.Set(key, value);
            consumerConfig.Set(key, value);
        }

        consumerConfig.ConsumeResultFields = "headers,timestamp";
        using var producer = new ProducerBuilder<byte[], byte[]>(producerConfig).SetLogHandler((_, _) => { }).Build();
        producer.InitTransactions(options.TransactionTimeout + TimeSpan.FromSeconds(5));
        using var consumer = new ConsumerBuilder<byte[], byte[]>(consumerConfig)
            .SetLogHandler((_, _) => { })
            .SetPartitionsAssignedHandler((_, partitions) => Interlocked.Add(ref assigned, partitions.Count))
            .SetPartitionsRevokedHandler((_, partitions) => Interlocked.Add(ref assigned, -partitions.Count))
            .Build();
        consumer.Subscribe(options.InputTopic);
        var commitTicks = (long)(options.CommitInterval.TotalSeconds * Stopwatch.Frequency);
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(options.CommitInterval.TotalMilliseconds / 4, 1, 100));
        var inTransaction = false;
        long batchStart = 0, batchCount = 0;
        var target = new TopicPartition(outputTopic, Partition.Any);
        while (!stop.IsCancellationRequested)
        {
            var result = consumer.Consume(poll);
            if (result is not null && !result.IsPartitionEOF)
            {
                if (!inTransaction)
                {
                    producer.BeginTransaction();
                    inTransaction = true;
                    batchStart = Stopwatch.GetTimestamp();
                    batchCount = 0;
                }

                var message = new Message<byte[], byte[]> { Key = result.Message.Key, Value = result.Message.Value, Timestamp = result.Message.Timestamp };
                while (true)
                {
                    try
                    {
                        producer.Produce(target, message);
                        break;
                    }
                    catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(20));
                    }
                }

                nextOffsets[result.Partition.Value] = result.Offset.Value + 1;
                batchCount++;
                Interlocked.Increment(ref processed);
            }

            if (inTransaction && (batchCount >= options.MaxBatchSize || Stopwatch.GetTimestamp() - batchStart >= commitTicks))
            {
                producer.SendOffsetsToTransaction(
                    [.. nextOffsets.Select(p => new TopicPartitionOffset(options.InputTopic, p.Key, p.Value))],
                    consumer.ConsumerGroupMetadata,
                    options.TransactionTimeout);
                producer.CommitTransaction(options.TransactionTimeout);
                inTransaction = false;
                Interlocked.Increment(ref commits);
                Volatile.Write(ref lastCommit, Stopwatch.GetTimestamp());
            }
        }

        if (inTransaction)
        {
            producer.CommitTransaction(options.TransactionTimeout);
        }

        consumer.Close();
    }
}
