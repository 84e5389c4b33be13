namespace StreamSeq.Kafka.Transport;

/// <summary>What the processing loop is doing, readable from any thread (health checks, dashboard).</summary>
public sealed class WorkerStatus
{
    private volatile bool started;
    private volatile bool joined;
    private volatile int restoring;
    private int[] partitions = [];
    private int[] awaitingChangelog = [];
    private IReadOnlyDictionary<int, long> standby = new Dictionary<int, long>();
    private long lastProgress = Environment.TickCount64;
    private LagReading lag = new(0, 0);

    /// <summary>True once the loop runs, the group has assigned this member its partitions and none is restoring.</summary>
    public bool Ready => started && joined && restoring == 0;

    /// <summary>
    /// True once the group has handed this member an assignment since it subscribed (possibly empty, when the group
    /// has more members than partitions), until the membership is lost.
    /// </summary>
    /// <remarks>
    /// With <c>group.protocol=consumer</c> librdkafka reports no assignment to a member whose first assignment is
    /// empty, so such a member never sees this turn true; the worker's readiness allows for that.
    /// </remarks>
    public bool Joined => joined;

    /// <summary>True while assigned partitions are being restored from the changelog.</summary>
    public bool Restoring => restoring > 0;

    /// <summary>True while the loop runs.</summary>
    public bool Started => started;

    /// <summary>Input partitions currently owned.</summary>
    public IReadOnlyList<int> Partitions => Volatile.Read(ref partitions);

    /// <summary>
    /// Input partitions assigned to this instance that wait, paused and unprocessed, for their changelog partition to
    /// exist (the input topic has more partitions than the changelog): they need an operator to add partitions to the
    /// changelog, after which the loop restores and processes them without a restart.
    /// </summary>
    public IReadOnlyList<int> AwaitingChangelog => Volatile.Read(ref awaitingChangelog);

    /// <summary>
    /// Standby stores (<c>Standby=all</c>): per input partition not owned, the changelog offset up to which its local
    /// store is complete (its checkpoint); an assignment of the partition reads the changelog from there.
    /// </summary>
    public IReadOnlyDictionary<int, long> Standby => Volatile.Read(ref standby);

    /// <summary>Live streams over all owned partitions (updated at each commit and restore).</summary>
    public long LiveStreams { get; internal set; }

    /// <summary>
    /// Input records not yet committed, summed over owned partitions: each partition's high watermark less its committed
    /// position, measured twice a second from the consumer's cached watermarks and at each commit; plus
    /// <see cref="AwaitingChangelogLag"/>.
    /// </summary>
    public long Lag => Volatile.Read(ref lag).Total;

    /// <summary>
    /// The part of <see cref="Lag"/> in partitions waiting for their changelog partition (<see cref="AwaitingChangelog"/>):
    /// all their records, looked up from the broker when they start waiting and every few seconds while they wait. They
    /// do not count toward a stall (<see cref="IsStalled"/>): no commit can take them before the changelog grows.
    /// </summary>
    public long AwaitingChangelogLag => Volatile.Read(ref lag).Awaiting;

    /// <summary><see cref="Lag"/> less <see cref="AwaitingChangelogLag"/>, from one reading: what commits can take now.</summary>
    internal long OwnedLag => Volatile.Read(ref lag) is var reading ? reading.Total - reading.Awaiting : 0;

    /// <summary>How long input may wait with no transaction committed before the loop counts as stalled.</summary>
    public TimeSpan StallTimeout { get; internal set; } = TimeSpan.FromMinutes(5);

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

    /// <summary>
    /// True when input of owned partitions has been waiting (lag above zero) with no committed transaction for longer than
    /// <see cref="StallTimeout"/>, outside restores: the loop makes no progress, and liveness reports it.
    /// </summary>
    /// <param name="waited">How long since the last commit, restore or moment without waiting input.</param>
    public bool IsStalled(out TimeSpan waited)
    {
        waited = TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref lastProgress));
        return started && restoring == 0 && OwnedLag > 0 && waited > StallTimeout;
    }

    /// <summary>A commit, a finished restore, or a moment with nothing waiting: the stall clock starts again.</summary>
    internal void MarkProgress() => Interlocked.Exchange(ref lastProgress, Environment.TickCount64);

    internal void SetStarted(bool value)
    {
        MarkProgress();
        started = value;
    }

    internal void SetJoined(bool value) => joined = value;

    internal void BeginRestore() => Interlocked.Increment(ref restoring);

    internal void EndRestore() => Interlocked.Decrement(ref restoring);

    internal void SetStandby(Dictionary<int, long> checkpoints) => Volatile.Write(ref standby, checkpoints);

    internal void SetPartitions(IEnumerable<int> owned) => Volatile.Write(ref partitions, [.. owned.Order()]);

    internal void SetAwaitingChangelog(IEnumerable<int> waiting) => Volatile.Write(ref awaitingChangelog, [.. waiting.Order()]);

    /// <summary>Sets the lag of the owned partitions and of those waiting for their changelog partition, together.</summary>
    internal void SetLag(long owned, long awaiting) => Volatile.Write(ref lag, new LagReading(owned + awaiting, awaiting));

    private sealed record LagReading(long Total, long Awaiting);
}
