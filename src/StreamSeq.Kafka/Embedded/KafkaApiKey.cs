namespace StreamSeq.Kafka.Embedded;

/// <summary>
/// Kafka protocol request types (the <c>ApiKey</c> of a request header) that error injection on the
/// <see cref="EmbeddedKafkaCluster"/> can target.
/// </summary>
public enum KafkaApiKey : short
{
    /// <summary>Produce: appends record batches (transactional batches included).</summary>
    Produce = 0,

    /// <summary>Fetch: reads record batches.</summary>
    Fetch = 1,

    /// <summary>ListOffsets: watermark and timestamp look-ups.</summary>
    ListOffsets = 2,

    /// <summary>Metadata: brokers, topics, partition leaders.</summary>
    Metadata = 3,

    /// <summary>OffsetCommit: consumer group offset commits.</summary>
    OffsetCommit = 8,

    /// <summary>OffsetFetch: committed offsets of a group.</summary>
    OffsetFetch = 9,

    /// <summary>FindCoordinator: locates the group or transaction coordinator.</summary>
    FindCoordinator = 10,

    /// <summary>JoinGroup: classic group protocol join.</summary>
    JoinGroup = 11,

    /// <summary>Heartbeat: classic group protocol liveness.</summary>
    Heartbeat = 12,

    /// <summary>LeaveGroup: classic group protocol leave.</summary>
    LeaveGroup = 13,

    /// <summary>SyncGroup: classic group protocol assignment distribution.</summary>
    SyncGroup = 14,

    /// <summary>ApiVersions: protocol version negotiation on connect.</summary>
    ApiVersions = 18,

    /// <summary>InitProducerId: idempotent/transactional producer id and epoch (fences older epochs).</summary>
    InitProducerId = 22,

    /// <summary>AddPartitionsToTxn: registers partitions in the open transaction.</summary>
    AddPartitionsToTxn = 24,

    /// <summary>AddOffsetsToTxn: registers a consumer group in the open transaction.</summary>
    AddOffsetsToTxn = 25,

    /// <summary>EndTxn: commits or aborts the transaction.</summary>
    EndTxn = 26,

    /// <summary>TxnOffsetCommit: consumer offsets sent within a transaction.</summary>
    TxnOffsetCommit = 28,

    /// <summary>ConsumerGroupHeartbeat: the KIP-848 (<c>group.protocol=consumer</c>) group protocol.</summary>
    ConsumerGroupHeartbeat = 68,
}
