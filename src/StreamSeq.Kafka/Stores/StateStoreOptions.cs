namespace StreamSeq.Kafka.Stores;

/// <summary>How the worker keeps its streams' states (settings <c>StreamSeq:Processing:StateStore</c> and the ones after it).</summary>
public sealed class StateStoreOptions
{
    /// <summary>The in-memory store (the default).</summary>
    public static StateStoreOptions Memory { get; } = new();

    /// <summary>In memory, or on disk.</summary>
    public StateStoreKind Kind { get; init; } = StateStoreKind.Memory;

    /// <summary>
    /// The disk store's folder: each owned partition's store lives in
    /// <c>&lt;Directory&gt;/&lt;group&gt;/&lt;instance&gt;/&lt;changelog topic&gt;-&lt;partition&gt;</c>.
    /// </summary>
    public string Directory { get; init; } = Path.Combine(Path.GetTempPath(), "streamseq-state");

    /// <summary>The disk store's cache of live streams, in estimated heap bytes, shared evenly by the owned partitions.</summary>
    public long CacheBytes { get; init; } = 256L << 20;

    /// <summary>
    /// The longest time between two local checkpoints of a partition (a checkpoint needs one request to the broker);
    /// a clean stop and a revocation always write one.
    /// </summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Standby replicas (disk store only): a thread of the worker tails the changelog of every input partition it does
    /// not own into a local store of that partition, so that an assignment of it reads only the changelog's tail.
    /// </summary>
    public bool Standby { get; init; }
}
