namespace StreamSeq.Processing.State;

/// <summary>
/// The streams of one input partition (or of a whole file). Created on assignment and dropped on revocation; the
/// changelog is its durable copy. Lookups by a borrowed span allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// In memory (the default), with <see cref="MaxLiveStreams"/> set, the least recently used streams beyond the limit
/// are evicted to a compact serialised tier and revived on their next record, so a flood of one-off stream ids cannot
/// exhaust memory with live filter objects. Eviction never loses an update: a stream evicted with changes the
/// changelog has not received yet (written in no committed transaction) keeps them in its serialised form and is
/// listed by <see cref="DirtyEvicted"/> until <see cref="ClearDirty"/>, so the transport writes it with the next
/// transaction, and it comes back dirty if it is revived first.
/// </para>
/// <para>
/// Over <see cref="ICommittedStates"/> (a disk-backed store) the live streams are a cache bounded in bytes
/// (<see cref="CacheBytes"/>, an estimate of their heap footprint): the least recently used clean streams leave it
/// and are read back from the committed states on their next record. A changed (dirty) stream never leaves memory
/// before the commit that writes it, so the committed states only ever hold committed data; the cache may exceed its
/// bound by the streams of the open transaction.
/// </para>
/// </remarks>
public sealed class StateStore
{
    /// <summary>Heap bytes of a stream beyond its id's characters and its state buffer (object, fields, table entry).</summary>
    internal const int StreamOverheadBytes = 200;

    private readonly Dictionary<string, StreamState> live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamState>.AlternateLookup<ReadOnlySpan<char>> liveLookup;
    private readonly Dictionary<string, byte[]> evicted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> evictedLookup;
    private readonly HashSet<string> unflushed = new(StringComparer.Ordinal);
    private readonly HashSet<string> removed = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> removedLookup;
    private readonly List<StreamState> touched = [];
    private readonly ICommittedStates? committed;
    private StreamState? newest;
    private StreamState? oldest;
    private long clock;
    private long clearedAt;

    /// <summary>Creates an in-memory store.</summary>
    /// <param name="partition">The input partition it belongs to (-1 for files).</param>
    /// <param name="maxLiveStreams">Live stream limit (0 = unlimited).</param>
    public StateStore(int partition = -1, int maxLiveStreams = 0)
    {
        Partition = partition;
        MaxLiveStreams = maxLiveStreams;
        liveLookup = live.GetAlternateLookup<ReadOnlySpan<char>>();
        evictedLookup = evicted.GetAlternateLookup<ReadOnlySpan<char>>();
        removedLookup = removed.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private StateStore(int partition, ICommittedStates committed, long cacheBytes)
        : this(partition)
    {
        this.committed = committed;
        CacheBytes = cacheBytes;
    }

    /// <summary>Creates a store whose live streams cache the committed states of a disk-backed store.</summary>
    /// <param name="partition">The input partition it belongs to.</param>
    /// <param name="committed">The partition's committed states.</param>
    /// <param name="cacheBytes">The cache's bound in (estimated) bytes of heap.</param>
    public static StateStore Caching(int partition, ICommittedStates committed, long cacheBytes)
    {
        ArgumentNullException.ThrowIfNull(committed);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cacheBytes);
        return new StateStore(partition, committed, cacheBytes);
    }

    /// <summary>The partition.</summary>
    public int Partition { get; }

    /// <summary>Live stream limit of an in-memory store (0 = unlimited).</summary>
    public int MaxLiveStreams { get; }

    /// <summary>True when the store caches the committed states of a disk-backed store.</summary>
    public bool IsCache => committed is not null;

    /// <summary>
    /// The bound of the live streams' estimated heap bytes over a disk-backed store (0 for an in-memory store). It may
    /// change while the store is in use (the worker shares its cache among the partitions it owns).
    /// </summary>
    public long CacheBytes
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
            TrimCache(null);
        }
    }

    /// <summary>The live streams' estimated heap bytes (see <see cref="EstimateBytes"/>).</summary>
    public long LiveBytes { get; private set; }

    /// <summary>Live streams.</summary>
    public int LiveCount => live.Count;

    /// <summary>Evicted (serialised) streams of an in-memory store.</summary>
    public int EvictedCount => evicted.Count;

    /// <summary>Streams evicted since creation (in-memory store).</summary>
    public long Evictions { get; private set; }

    /// <summary>Streams that left the cache of a disk-backed store since creation.</summary>
    public long CacheDrops { get; private set; }

    /// <summary>The live streams.</summary>
    public IEnumerable<StreamState> Streams => live.Values;

    /// <summary>
    /// An estimate of a stream's heap bytes: a fixed overhead, its id's characters, its state buffer and the
    /// observations waiting for the watermark.
    /// </summary>
    public static long EstimateBytes(StreamState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        long bytes = StreamOverheadBytes + (2L * state.StreamId.Length) + (8L * state.Buffer.Length);
        if (state.Pending is { } pending)
        {
            foreach (var p in pending)
            {
                bytes += 128 + (8L * (p.Values.Length + p.Control.Length));
            }
        }

        return bytes;
    }

    /// <summary>Finds a live stream.</summary>
    public bool TryGetLive(ReadOnlySpan<char> streamId, out StreamState state)
    {
        if (liveLookup.TryGetValue(streamId, out state!))
        {
            Touch(state);
            MoveToNewest(state);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Reads a stream's serialised state that is not live, without reviving it (a status query must not make it live):
    /// an evicted stream of an in-memory store, or a committed state of a disk-backed store.
    /// </summary>
    public bool TryPeekEvicted(ReadOnlySpan<char> streamId, out byte[] data)
    {
        if (evictedLookup.TryGetValue(streamId, out data!))
        {
            return true;
        }

        return committed is not null && !removedLookup.Contains(streamId) && committed.TryRead(streamId, out data);
    }

    /// <summary>Takes a stream's serialised state that is not live (evicted, or committed on disk), if present.</summary>
    /// <param name="streamId">The stream id.</param>
    /// <param name="key">The stream id as stored.</param>
    /// <param name="data">The serialised state.</param>
    /// <param name="changed">
    /// True when the state holds changes no committed transaction has written yet: the revived stream must be marked dirty.
    /// </param>
    public bool TryTakeEvicted(ReadOnlySpan<char> streamId, out string key, out byte[] data, out bool changed)
    {
        if (evictedLookup.TryGetValue(streamId, out var actualKey, out data!))
        {
            evicted.Remove(actualKey);
            changed = unflushed.Remove(actualKey);
            key = actualKey;
            return true;
        }

        changed = false;
        if (committed is not null && !removedLookup.Contains(streamId) && committed.TryRead(streamId, out data))
        {
            key = streamId.ToString();
            return true;
        }

        key = string.Empty;
        return false;
    }

    /// <summary>Adds (or replaces) a live stream, evicting the least recently used ones beyond the limit.</summary>
    public void Put(StreamState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (live.TryGetValue(state.StreamId, out var previous))
        {
            Unlink(previous);
            LiveBytes -= previous.CountedBytes;
        }

        Touch(state);
        removed.Remove(state.StreamId);
        live[state.StreamId] = state;
        Link(state);
        state.CountedBytes = EstimateBytes(state);
        LiveBytes += state.CountedBytes;
        if (evicted.Remove(state.StreamId) && unflushed.Remove(state.StreamId))
        {
            state.Dirty = true;
        }

        if (committed is not null)
        {
            TrimCache(state);
        }
        else if (MaxLiveStreams > 0 && live.Count > MaxLiveStreams)
        {
            EvictOldest(Math.Max(1, MaxLiveStreams / 10), state);
        }
    }

    /// <summary>Keeps a stream's committed serialised state without making it live (restore beyond the live limit).</summary>
    /// <exception cref="InvalidOperationException">The store caches a disk-backed store (which holds committed states itself).</exception>
    public void PutEvicted(string streamId, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(streamId);
        if (committed is not null)
        {
            throw new InvalidOperationException("a disk-backed store keeps committed states on disk, not evicted in memory.");
        }

        if (live.Remove(streamId, out var previous))
        {
            Unlink(previous);
            LiveBytes -= previous.CountedBytes;
        }

        unflushed.Remove(streamId);
        removed.Remove(streamId);
        evicted[streamId] = data;
    }

    /// <summary>
    /// Takes a stream out of the store, live, evicted or committed on disk (a stream whose records now arrive on another
    /// partition, whose store takes it over). Until <see cref="ClearDirty"/> the stream is listed by
    /// <see cref="Removed"/>, so that the transport writes its tombstone with the next transaction, and a disk-backed
    /// store's committed copy is no longer read.
    /// </summary>
    /// <param name="streamId">The stream id.</param>
    /// <param name="state">The live stream, when it was live.</param>
    /// <param name="data">Its serialised state, when it was not live (evicted, or committed on disk).</param>
    /// <returns>False when the store holds no state of the stream.</returns>
    public bool TryRemove(ReadOnlySpan<char> streamId, out StreamState? state, out byte[]? data)
    {
        data = null;
        if (liveLookup.TryGetValue(streamId, out var actualKey, out var found))
        {
            live.Remove(actualKey);
            Unlink(found);
            LiveBytes -= found.CountedBytes;

            // Untouched as far as any store knows: the store that takes it over lists it among its changed streams.
            found.LastTouched = 0;
            state = found;
            removed.Add(actualKey);
            return true;
        }

        state = null;
        if (evictedLookup.TryGetValue(streamId, out var evictedKey, out var bytes))
        {
            evicted.Remove(evictedKey);
            unflushed.Remove(evictedKey);
            data = bytes;
            removed.Add(evictedKey);
            return true;
        }

        if (committed is not null && !removedLookup.Contains(streamId) && committed.TryRead(streamId, out bytes))
        {
            data = bytes;
            removed.Add(streamId.ToString());
            return true;
        }

        return false;
    }

    /// <summary>Streams taken out by <see cref="TryRemove"/> since the last <see cref="ClearDirty"/> (each needs a tombstone).</summary>
    public IEnumerable<string> Removed => removed;

    /// <summary>Live streams changed since the last call to <see cref="ClearDirty"/>.</summary>
    public IEnumerable<StreamState> DirtyStreams => touched.Where(s => s.Dirty && liveLookup.TryGetValue(s.StreamId, out var current) && ReferenceEquals(current, s));

    /// <summary>
    /// Evicted streams whose serialised state holds changes since the last call to <see cref="ClearDirty"/> (they were
    /// evicted while dirty): the transport writes these bytes to the changelog like the dirty live streams.
    /// </summary>
    public IEnumerable<KeyValuePair<string, byte[]>> DirtyEvicted => unflushed.Select(id => new KeyValuePair<string, byte[]>(id, evicted[id]));

    /// <summary>
    /// Marks every stream clean, live or evicted (after a committed transaction wrote their changelog records, and a
    /// disk-backed store their committed states); a disk-backed store's cache then shrinks to its bound.
    /// </summary>
    public void ClearDirty()
    {
        foreach (var s in touched)
        {
            s.Dirty = false;
            if (committed is not null && live.TryGetValue(s.StreamId, out var current) && ReferenceEquals(current, s))
            {
                // A stream's footprint changes as it steps (a fixed-lag window fills, observations wait).
                var bytes = EstimateBytes(s);
                LiveBytes += bytes - s.CountedBytes;
                s.CountedBytes = bytes;
            }
        }

        touched.Clear();
        unflushed.Clear();
        removed.Clear();
        clearedAt = clock;
        TrimCache(null);
    }

    /// <summary>Records the first access to a stream since the last <see cref="ClearDirty"/> (the candidates for <see cref="DirtyStreams"/>).</summary>
    private void Touch(StreamState state)
    {
        if (state.LastTouched <= clearedAt)
        {
            touched.Add(state);
        }

        state.LastTouched = ++clock;
    }

    private void Link(StreamState state)
    {
        state.Older = newest;
        state.Newer = null;
        if (newest is not null)
        {
            newest.Newer = state;
        }

        newest = state;
        oldest ??= state;
    }

    private void Unlink(StreamState state)
    {
        if (state.Newer is { } newer)
        {
            newer.Older = state.Older;
        }
        else
        {
            newest = state.Older;
        }

        if (state.Older is { } older)
        {
            older.Newer = state.Newer;
        }
        else
        {
            oldest = state.Newer;
        }

        state.Newer = null;
        state.Older = null;
    }

    private void MoveToNewest(StreamState state)
    {
        if (ReferenceEquals(newest, state))
        {
            return;
        }

        Unlink(state);
        Link(state);
    }

    /// <summary>Drops the least recently used clean streams of a cache until it fits its bound, never <paramref name="keep"/>.</summary>
    private void TrimCache(StreamState? keep)
    {
        if (committed is null || LiveBytes <= CacheBytes)
        {
            return;
        }

        var candidate = oldest;
        while (candidate is not null && LiveBytes > CacheBytes)
        {
            var next = candidate.Newer;
            if (!candidate.Dirty && !ReferenceEquals(candidate, keep))
            {
                live.Remove(candidate.StreamId);
                Unlink(candidate);
                LiveBytes -= candidate.CountedBytes;
                CacheDrops++;
            }

            candidate = next;
        }
    }

    /// <summary>Evicts the least recently used streams, never <paramref name="keep"/> (the stream about to be stepped).</summary>
    private void EvictOldest(int count, StreamState keep)
    {
        var candidate = oldest;
        while (candidate is not null && count > 0)
        {
            var next = candidate.Newer;
            if (!ReferenceEquals(candidate, keep))
            {
                live.Remove(candidate.StreamId);
                Unlink(candidate);
                LiveBytes -= candidate.CountedBytes;
                evicted[candidate.StreamId] = StreamStateCodec.ToBytes(candidate);
                if (candidate.Dirty)
                {
                    unflushed.Add(candidate.StreamId);
                }

                Evictions++;
                count--;
            }

            candidate = next;
        }
    }
}
