using Confluent.Kafka;

namespace StreamSeq.Kafka;

/// <summary>
/// The Confluent.Kafka client settings the worker uses, in one place so that the integration tests on the embedded
/// broker exercise exactly what runs in production (docs/kafka-embedded.md explains each choice and its numbers).
/// </summary>
internal static class KafkaClientDefaults
{
    /// <summary>Transaction timeout: how long the coordinator keeps an open transaction of a dead instance.</summary>
    public const int TransactionTimeoutMilliseconds = 10_000;

    /// <summary>
    /// How often the loop's consumer and producer emit librdkafka's statistics (exported as metrics); a
    /// <c>statistics.interval.ms</c> under <c>StreamSeq:Kafka:Client</c> overrides it, and 0 turns them off.
    /// </summary>
    public const int StatisticsIntervalMilliseconds = 15_000;

    /// <summary>Longest wait of an input fetch that finds no data.</summary>
    public const int InputFetchWaitMilliseconds = 100;

    /// <summary>Longest wait of a restore fetch at the end of a changelog partition (bounds restore's EOF latency).</summary>
    public const int RestoreFetchWaitMilliseconds = 50;

    /// <summary>
    /// Consumer of the input topics. Offsets are not auto-committed: the next offset of each input partition travels
    /// in the state changelog inside the output transaction, and group offsets are committed only for lag monitoring.
    /// </summary>
    /// <param name="bootstrapServers">Broker list.</param>
    /// <param name="groupId">Consumer group of the worker fleet.</param>
    /// <param name="protocol">
    /// <see cref="GroupProtocol.Classic"/> (every broker; cooperative-sticky assignment) or
    /// <see cref="GroupProtocol.Consumer"/> (KIP-848, Kafka 4.0+: broker-side incremental assignment).
    /// </param>
    public static ConsumerConfig InputConsumer(string bootstrapServers, string groupId, GroupProtocol protocol = GroupProtocol.Classic)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = groupId,
            GroupProtocol = protocol,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = false,

            // Upper bound on how long an idle fetch waits; the mock broker always waits this long when it has no
            // data at request time, so it is also the test latency floor. 10 idle fetches/s per broker is cheap.
            FetchWaitMaxMs = InputFetchWaitMilliseconds,
        };
        if (protocol == GroupProtocol.Classic)
        {
            // Incremental rebalances: members keep the partitions they retain, so only moved partitions restore.
            config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        }

        return config;
    }

    /// <summary>
    /// Consumer that restores state by reading a changelog partition from the beginning to its end. It is assigned
    /// partitions directly (no group), so it never joins the worker's group.
    /// </summary>
    /// <param name="bootstrapServers">Broker list.</param>
    public static ConsumerConfig ChangelogRestoreConsumer(string bootstrapServers) => new()
    {
        BootstrapServers = bootstrapServers,
        GroupId = "streamseq-restore-unused",
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        IsolationLevel = IsolationLevel.ReadCommitted,
        EnablePartitionEof = true,

        // The end of a partition is only known after a fetch at the end offset returns; keep that wait short.
        FetchWaitMaxMs = RestoreFetchWaitMilliseconds,

        // Restore reads key, value and partition only (the restore rule needs no transaction header): skipping headers,
        // topic name and timestamp saves their marshalling per changelog record.
        ConsumeResultFields = "none",
    };

    /// <summary>
    /// Transactional producer for outputs and changelog records (idempotence, acks=all and ordering are implied by
    /// the transactional id).
    /// </summary>
    /// <param name="bootstrapServers">Broker list.</param>
    /// <param name="transactionalId">Stable per worker instance, so a restarted instance fences its predecessor.</param>
    public static ProducerConfig TransactionalProducer(string bootstrapServers, string transactionalId) => new()
    {
        BootstrapServers = bootstrapServers,
        TransactionalId = transactionalId,
        EnableIdempotence = true,
        Acks = Acks.All,
        LingerMs = 5,
        TransactionTimeoutMs = TransactionTimeoutMilliseconds,
        MessageTimeoutMs = TransactionTimeoutMilliseconds,
    };
}
