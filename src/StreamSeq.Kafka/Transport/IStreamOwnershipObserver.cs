using StreamSeq.Processing.Records;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// What a partition's restored state says about one of its streams: what the state itself holds, nothing more (it keeps
/// no history of readings or estimates).
/// </summary>
/// <param name="Id">The stream id.</param>
/// <param name="Model">The stream's model.</param>
/// <param name="Partition">The input partition that holds the stream.</param>
/// <param name="Steps">Readings the stream has been stepped on, over all its owners (since it started from its prior).</param>
/// <param name="LastTime">Time of its last processed reading (<see cref="double.NaN"/> before the first).</param>
/// <param name="Anomalies">Anomaly records its alert gate let through, over all its owners.</param>
public readonly record struct OwnedStream(string Id, string Model, int Partition, long Steps, RecordTime LastTime, long Anomalies);

/// <summary>
/// Told, on the processing loop's thread, which streams the worker comes to own and which partitions it gives up (the
/// dashboard lists the owned streams). Must only enqueue: it must not block the loop.
/// </summary>
public interface IStreamOwnershipObserver
{
    /// <summary>The most streams of one restored partition to be told about (0: none).</summary>
    int MaxStreamsPerPartition { get; }

    /// <summary>A partition was restored: its streams (at most <see cref="MaxStreamsPerPartition"/>).</summary>
    void Restored(int partition, IReadOnlyList<OwnedStream> streams);

    /// <summary>Partitions were revoked or lost: their streams are no longer this worker's.</summary>
    void Released(IReadOnlyCollection<int> partitions);
}
