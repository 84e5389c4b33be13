using System.ComponentModel.DataAnnotations;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// Settings of the Kafka transport (configuration section <c>StreamSeq:Kafka</c>). Every setting is validated at start
/// with a message that names it.
/// </summary>
public sealed class KafkaTransportOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "StreamSeq:Kafka";

    /// <summary>Broker list. Empty: the worker starts the embedded broker and the sensor simulator.</summary>
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>Consumer group of the worker fleet.</summary>
    [Required(AllowEmptyStrings = false)]
    public string GroupId { get; set; } = "streamseq";

    /// <summary>
    /// Stable identity of this worker instance (a StatefulSet pod name, for example). The transactional id is derived
    /// from it, so a restarted instance fences its predecessor and aborts its open transaction at once. Empty: the host
    /// name.
    /// </summary>
    public string InstanceId { get; set; } = string.Empty;

    /// <summary>Input topic of sensor readings (key = stream id).</summary>
    [Required(AllowEmptyStrings = false)]
    public string InputTopic { get; set; } = "streamseq.readings";

    /// <summary>Topic of <c>filtered</c> records.</summary>
    [Required(AllowEmptyStrings = false)]
    public string FilteredTopic { get; set; } = "streamseq.filtered";

    /// <summary>Topic of <c>smoothed</c> records.</summary>
    [Required(AllowEmptyStrings = false)]
    public string SmoothedTopic { get; set; } = "streamseq.smoothed";

    /// <summary>Topic of <c>forecast</c> records.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ForecastTopic { get; set; } = "streamseq.forecasts";

    /// <summary>Topic of <c>anomaly</c> records.</summary>
    [Required(AllowEmptyStrings = false)]
    public string AnomalyTopic { get; set; } = "streamseq.anomalies";

    /// <summary>Dead-letter topic: original bytes plus headers naming the reason and the source.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DeadLetterTopic { get; set; } = "streamseq.deadletters";

    /// <summary>
    /// Compacted state changelog, partitioned like the input topic: per-stream state plus each input partition's next
    /// offset, written in the same transaction as the outputs.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string ChangelogTopic { get; set; } = "streamseq.changelog";

    /// <summary>Longest time a transaction stays open (the commit interval bounds output latency).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Most input records per transaction.</summary>
    [Range(1, 10_000_000)]
    public int MaxBatchSize { get; set; } = 10_000;

    /// <summary>Transaction timeout: how long the coordinator waits before aborting a dead instance's transaction.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:15:00")]
    public TimeSpan TransactionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest time input may wait with no transaction committed (restores excepted) before <c>/health/live</c> reports the
    /// worker unhealthy, so that an orchestrator restarts a loop that makes no progress. Must exceed
    /// <see cref="TransactionTimeout"/>: one commit attempt may take that long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Create missing topics at start (needs the Admin API and permission; the changelog is compacted).</summary>
    public bool CreateTopics { get; set; } = true;

    /// <summary>Partitions of topics created at start.</summary>
    [Range(1, 10_000)]
    public int TopicPartitions { get; set; } = 4;

    /// <summary>Replication factor of topics created at start.</summary>
    [Range(1, 16)]
    public short ReplicationFactor { get; set; } = 1;

    /// <summary>Header whose value routes a new stream to a model (for example a sensor type); empty: none.</summary>
    public string RouteHeader { get; set; } = "sensor-type";

    /// <summary>Consumer group protocol: <c>classic</c> (cooperative-sticky) or <c>consumer</c> (KIP-848, Kafka 4.0+).</summary>
    [RegularExpression("^(classic|consumer)$", ErrorMessage = "StreamSeq:Kafka:GroupProtocol must be 'classic' or 'consumer'.")]
    public string GroupProtocol { get; set; } = "classic";

    /// <summary>Session timeout of the classic group protocol.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Extra librdkafka settings for every client, passed through unchanged: security (<c>security.protocol</c>,
    /// <c>sasl.mechanism</c>, <c>sasl.username</c>, <c>sasl.password</c>, <c>ssl.ca.location</c>, ...) and tuning.
    /// </summary>
    public Dictionary<string, string> Client { get; set; } = [];

    /// <summary>
    /// Send each transaction's input offsets to the group coordinator inside the transaction
    /// (<c>SendOffsetsToTransaction</c>): lag monitoring and, on Apache Kafka, fencing of a stalled instance whose
    /// partitions moved (KIP-447). Resuming never depends on them (the changelog carries the offsets).
    /// </summary>
    public bool CommitGroupOffsets { get; set; } = true;

    /// <summary>The instance id, defaulting to the host name.</summary>
    public string EffectiveInstanceId => string.IsNullOrWhiteSpace(InstanceId) ? Environment.MachineName : InstanceId;
}
