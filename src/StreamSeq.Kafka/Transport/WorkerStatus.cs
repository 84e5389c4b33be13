namespace StreamSeq.Kafka.Transport;

/// <summary>What the processing loop is doing, readable from any thread (health checks, dashboard).</summary>
public sealed class WorkerStatus
{
    private volatile bool started;
    private volatile int restoring;
    private int[] partitions = [];

    /// <summary>True once the loop runs and no partition is restoring.</summary>
    public bool Ready => started && restoring == 0;

    /// <summary>True while the loop runs.</summary>
    public bool Started => started;

    /// <summary>Input partitions currently owned.</summary>
    public IReadOnlyList<int> Partitions => Volatile.Read(ref partitions);

    /// <summary>Live streams over all owned partitions (updated at each commit).</summary>
    public long LiveStreams { get; internal set; }

    /// <summary>Consumer lag summed over owned partitions (updated at each commit).</summary>
    public long Lag { get; internal set; }

    /// <summary>Streams of owned partitions kept only in serialised form (evicted beyond the live limit).</summary>
    public long EvictedStreams { get; internal set; }

    /// <summary>Transactions aborted (each followed by a rewind to the changelog).</summary>
    public long Aborts { get; internal set; }

    /// <summary>Transactions committed.</summary>
    public long Commits { get; internal set; }

    /// <summary>Input records processed.</summary>
    public long Processed { get; internal set; }

    /// <summary>Anomaly alerts emitted.</summary>
    public long Alerts { get; internal set; }

    /// <summary>Records sent to the dead-letter topic.</summary>
    public long DeadLetters { get; internal set; }

    /// <summary>Exact duplicates dropped.</summary>
    public long Duplicates { get; internal set; }

    /// <summary>Time of the last commit.</summary>
    public DateTimeOffset LastCommit { get; internal set; }

    /// <summary>The last fatal error, when the loop stopped on one.</summary>
    public Exception? Fault { get; internal set; }

    internal void SetStarted(bool value) => started = value;

    internal void BeginRestore() => Interlocked.Increment(ref restoring);

    internal void EndRestore() => Interlocked.Decrement(ref restoring);

    internal void SetPartitions(IEnumerable<int> owned) => Volatile.Write(ref partitions, [.. owned.Order()]);
}
