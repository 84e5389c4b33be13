namespace StreamSeq.Kafka.Reading;

/// <summary>How <see cref="CommittedReader"/> decides that a record belongs to a committed transaction.</summary>
public enum ReadIsolation
{
    /// <summary>
    /// The broker decides: <c>isolation.level=read_committed</c>. Right for Apache Kafka and any broker that isolates
    /// transactions.
    /// </summary>
    Broker,

    /// <summary>
    /// The worker's offset markers decide (<see cref="TransactionMarkers{T}"/>), for brokers that show the records of
    /// aborted and open transactions to read_committed readers, such as the embedded broker (librdkafka's mock).
    /// </summary>
    Marker,
}
