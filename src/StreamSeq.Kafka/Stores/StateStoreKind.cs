namespace StreamSeq.Kafka.Stores;

/// <summary>Where a worker keeps its streams' states.</summary>
public enum StateStoreKind
{
    /// <summary>In the heap, restored from the whole changelog on every assignment (the default).</summary>
    Memory,

    /// <summary>One RocksDB per owned input partition, with a bounded cache of live streams and a local checkpoint.</summary>
    RocksDb,
}
