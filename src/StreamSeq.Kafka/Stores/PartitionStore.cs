using System.Text;
using RocksDbSharp;
using StreamSeq.Processing.State;

namespace StreamSeq.Kafka.Stores;

/// <summary>
/// One input partition's committed stream states and local checkpoint, in a RocksDB of its own (key = the stream id in
/// UTF-8, value = the state's changelog bytes). Only the processing loop's thread uses it.
/// </summary>
/// <remarks>
/// Writes are staged while a transaction is open and applied after it committed, in one atomic write batch together
/// with the checkpoint when one is due: store and checkpoint never disagree, and a crash before the batch loses only
/// the local copy of what the changelog already holds. The batch is written without fsync: the write-ahead log
/// survives a killed process, and after a machine crash RocksDB recovers a prefix of the batches, so the store is
/// never behind its checkpoint (it may be ahead of it: the states of commits after the checkpoint).
/// </remarks>
internal sealed class PartitionStore : ICommittedStates, IDisposable
{
    /// <summary>The checkpoint's key: a stream id never starts with NUL (such keys are dead-lettered as invalid).</summary>
    private static readonly byte[] CheckpointKey = "\0checkpoint"u8.ToArray();

    /// <summary>
    /// A file left in the folder when a read found the store corrupt: RocksDB checks a data block only when it reads it,
    /// so a damaged file can open fine. The next <see cref="Open(string)"/> replaces such a store by an empty one.
    /// </summary>
    private const string DamagedMark = "STREAMSEQ-DAMAGED";

    /// <summary>Above every key: no UTF-8 text of 1 KiB (the longest stream id) reaches it.</summary>
    private static readonly byte[] EndOfKeys = [.. Enumerable.Repeat((byte)0xFF, 1100)];

    /// <summary>RocksDB's own block cache, shared by the stores of a process (the states' cache is the managed one).</summary>
    private static readonly Lazy<Cache> BlockCache = new(() => Cache.CreateLru(32UL << 20));

    private readonly WriteBatch staged = new();
    private readonly WriteOptions writeOptions = new WriteOptions().SetSync(false);
    private readonly RocksDb db;

    private PartitionStore(RocksDb db, string path)
    {
        this.db = db;
        Path = path;
    }

    /// <summary>The store's folder.</summary>
    public string Path { get; }

    /// <summary>Why the store's files could not be opened and were replaced by an empty store (null: they could).</summary>
    public string? Damaged { get; private init; }

    /// <summary>Writes staged since the last <see cref="Apply"/> or <see cref="DiscardStaged"/>.</summary>
    public int Staged => staged.Count();

    /// <summary>When the last checkpoint was written (<see cref="System.Diagnostics.Stopwatch"/> ticks; 0: not yet).</summary>
    public long CheckpointedAt { get; set; }

    /// <summary>
    /// Opens (or creates) the store in <paramref name="path"/>. Files RocksDB reports as corrupt (truncated, overwritten),
    /// now or when an earlier read found them so (<see cref="TryRead"/>), are deleted and an empty store is created
    /// instead (<see cref="Damaged"/> says why): the store is only a copy of the changelog, which restores it, whereas
    /// failing would fail every start on this volume. Other errors (the folder locked by another process, not writable)
    /// are thrown: deleting files in use could harm that process.
    /// </summary>
    public static PartitionStore Open(string path)
    {
        var mark = System.IO.Path.Combine(path, DamagedMark);
        if (File.Exists(mark))
        {
            var reason = File.ReadAllText(mark);
            Directory.Delete(path, recursive: true);
            return Open(path, reason);
        }

        try
        {
            return Open(path, damaged: null);
        }
        catch (RocksDbException e) when (e.Message.StartsWith("Corruption", StringComparison.Ordinal))
        {
            Directory.Delete(path, recursive: true);
            return Open(path, e.Message);
        }
    }

    private static PartitionStore Open(string path, string? damaged)
    {
        Directory.CreateDirectory(path);
        // Index and bloom filter blocks stay with their open table files (about 1.5 bytes per stream) rather than in the
        // block cache: in a 32 MiB cache shared with data blocks, a store of millions of streams evicted them, and every
        // read of a stream not in memory loaded and parsed a whole filter block of its file again (megabytes per read).
        var table = new BlockBasedTableOptions()
            .SetBlockCache(BlockCache.Value)
            .SetFilterPolicy(BloomFilterPolicy.Create(10, false))
            .SetCacheIndexAndFilterBlocks(false);
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetWriteBufferSize(16UL << 20)
            .SetMaxWriteBufferNumber(2)
            .SetMaxOpenFiles(256)
            .SetKeepLogFileNum(2)
            .SetBlockBasedTableFactory(table);
        return new PartitionStore(RocksDb.Open(options, path), path) { Damaged = damaged };
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">
    /// The block holding the state is corrupt: the store is marked so that its next <see cref="Open(string)"/> replaces it.
    /// </exception>
    public bool TryRead(ReadOnlySpan<char> streamId, out byte[] data)
    {
        Span<byte> key = stackalloc byte[Encoding.UTF8.GetByteCount(streamId)];
        Encoding.UTF8.GetBytes(streamId, key);
        data = Get(key)!;
        return data is not null;
    }

    /// <summary>
    /// Reads a key; a corrupt block marks the store so that its next <see cref="Open(string)"/> replaces it, and throws
    /// <see cref="InvalidDataException"/> naming the store.
    /// </summary>
    private byte[]? Get(ReadOnlySpan<byte> key)
    {
        try
        {
            return db.Get(key);
        }
        catch (RocksDbException e) when (e.Message.StartsWith("Corruption", StringComparison.Ordinal))
        {
            File.WriteAllText(System.IO.Path.Combine(Path, DamagedMark), e.Message);
            throw new InvalidDataException($"the disk store in {Path} is corrupt ({e.Message}); it is rebuilt from the changelog at the next start.", e);
        }
    }

    /// <summary>Stages a stream's committed state (a copy is taken).</summary>
    public void Stage(string streamId, ReadOnlySpan<byte> state)
    {
        Span<byte> key = stackalloc byte[Encoding.UTF8.GetByteCount(streamId)];
        Encoding.UTF8.GetBytes(streamId, key);
        staged.Put(key, state);
    }

    /// <summary>Stages the removal of a stream's state.</summary>
    public void StageDelete(string streamId)
    {
        Span<byte> key = stackalloc byte[Encoding.UTF8.GetByteCount(streamId)];
        Encoding.UTF8.GetBytes(streamId, key);
        staged.Delete(key);
    }

    /// <summary>
    /// Stages a changelog record's effect: its state, or the stream's removal when the value is empty or null (a state is
    /// never empty: an empty value and a tombstone both delete).
    /// </summary>
    public void StageRecord(string streamId, byte[]? value)
    {
        if (value is not { Length: > 0 })
        {
            StageDelete(streamId);
        }
        else
        {
            Stage(streamId, value);
        }
    }

    /// <summary>Stages the removal of every state and of the checkpoint (a store that cannot be trusted any more).</summary>
    public void StageClear() => staged.DeleteRange([], 0, EndOfKeys, (ulong)EndOfKeys.Length);

    /// <summary>Forgets what was staged (the transaction aborted).</summary>
    public void DiscardStaged() => staged.Clear();

    /// <summary>Writes what was staged and, when given, the checkpoint, in one atomic batch.</summary>
    public void Apply(StoreCheckpoint? checkpoint)
    {
        if (checkpoint is not null)
        {
            staged.Put(CheckpointKey, checkpoint.ToBytes());
            CheckpointedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        if (staged.Count() > 0)
        {
            db.Write(staged, writeOptions);
        }

        staged.Clear();
    }

    /// <summary>The checkpoint, or null when the store has none (new, cleared, or written by an unknown version).</summary>
    /// <exception cref="InvalidDataException">
    /// The block holding the checkpoint is corrupt: the store is marked so that its next <see cref="Open(string)"/> replaces it.
    /// </exception>
    public StoreCheckpoint? ReadCheckpoint() => Get(CheckpointKey) is { } bytes ? StoreCheckpoint.Read(bytes) : null;

    /// <summary>
    /// The streams the store holds, counted by reading its keys when there are at most <paramref name="limit"/>; beyond,
    /// RocksDB's estimate (<paramref name="exact"/> false), which counts a key written again since the last compaction
    /// more than once.
    /// </summary>
    public long CountStreams(long limit, out bool exact)
    {
        long count = 0;
        foreach (var _ in StreamEntries(fillCache: false))
        {
            if (++count > limit)
            {
                exact = false;
                return Math.Max(count, EstimatedKeys - 1);
            }
        }

        exact = true;
        return count;
    }

    /// <summary>The first <paramref name="limit"/> streams' states in key order (the checkpoint is no stream).</summary>
    public IEnumerable<(string StreamId, byte[] State)> States(int limit) =>
        StreamEntries(fillCache: true).Take(limit).Select(entry => (Encoding.UTF8.GetString(entry.Key), entry.At.Value()));

    /// <summary>Each stream's key, and the iterator at its entry, in key order: every key but the checkpoint's (keys from NUL on).</summary>
    private IEnumerable<(byte[] Key, Iterator At)> StreamEntries(bool fillCache)
    {
        using var iterator = fillCache ? db.NewIterator() : db.NewIterator(readOptions: new ReadOptions().SetFillCache(false));
        for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
        {
            var key = iterator.Key();
            if (key.Length == 0 || key[0] != 0)
            {
                yield return (key, iterator);
            }
        }
    }

    /// <summary>RocksDB's estimate of the keys it holds (the streams, plus the checkpoint).</summary>
    public long EstimatedKeys => long.TryParse(db.GetProperty("rocksdb.estimate-num-keys"), out var n) ? n : 0;

    /// <inheritdoc />
    public void Dispose()
    {
        staged.Dispose();
        db.Dispose();
    }
}
