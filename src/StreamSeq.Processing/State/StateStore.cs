namespace StreamSeq.Processing.State;

/// <summary>
/// The streams of one input partition (or of a whole file). Created on assignment and dropped on revocation; the
/// changelog is its durable copy. Lookups by a borrowed span allocate nothing.
/// </summary>
/// <remarks>
/// With <see cref="MaxLiveStreams"/> set, the least recently used streams beyond the limit are evicted to a compact
/// serialised tier and revived on their next record, so a flood of one-off stream ids cannot exhaust memory with live
/// filter objects. Eviction never loses an update: a stream evicted with changes the changelog has not received yet
/// (written in no committed transaction) keeps them in its serialised form and is listed by <see cref="DirtyEvicted"/>
/// until <see cref="ClearDirty"/>, so the transport writes it with the next transaction, and it comes back dirty if it
/// is revived first. The serialised tier is kept in memory; its surface (take, put, enumerate changed keys) is what a
/// disk-backed tier would implement.
/// </remarks>
public sealed class StateStore
{
    private readonly Dictionary<string, StreamState> live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamState>.AlternateLookup<ReadOnlySpan<char>> liveLookup;
    private readonly Dictionary<string, byte[]> evicted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> evictedLookup;
    private readonly HashSet<string> unflushed = new(StringComparer.Ordinal);
    private long clock;

    /// <summary>Creates a store.</summary>
    /// <param name="partition">The input partition it belongs to (-1 for files).</param>
    /// <param name="maxLiveStreams">Live stream limit (0 = unlimited).</param>
    public StateStore(int partition = -1, int maxLiveStreams = 0)
    {
        Partition = partition;
        MaxLiveStreams = maxLiveStreams;
        liveLookup = live.GetAlternateLookup<ReadOnlySpan<char>>();
        evictedLookup = evicted.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The partition.</summary>
    public int Partition { get; }

    /// <summary>Live stream limit (0 = unlimited).</summary>
    public int MaxLiveStreams { get; }

    /// <summary>Live streams.</summary>
    public int LiveCount => live.Count;

    /// <summary>Evicted (serialised) streams.</summary>
    public int EvictedCount => evicted.Count;

    /// <summary>Streams evicted since creation.</summary>
    public long Evictions { get; private set; }

    /// <summary>The live streams.</summary>
    public IEnumerable<StreamState> Streams => live.Values;

    /// <summary>Finds a live stream.</summary>
    public bool TryGetLive(ReadOnlySpan<char> streamId, out StreamState state)
    {
        if (liveLookup.TryGetValue(streamId, out state!))
        {
            state.LastTouched = ++clock;
            return true;
        }

        return false;
    }

    /// <summary>Reads an evicted stream's serialised state without reviving it (a status query must not make it live).</summary>
    public bool TryPeekEvicted(ReadOnlySpan<char> streamId, out byte[] data) => evictedLookup.TryGetValue(streamId, out data!);

    /// <summary>Takes an evicted stream's serialised state out of the evicted tier, if present.</summary>
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

        key = string.Empty;
        changed = false;
        return false;
    }

    /// <summary>Adds (or replaces) a live stream, evicting the least recently used ones beyond the limit.</summary>
    public void Put(StreamState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.LastTouched = ++clock;
        live[state.StreamId] = state;
        if (evicted.Remove(state.StreamId) && unflushed.Remove(state.StreamId))
        {
            state.Dirty = true;
        }

        if (MaxLiveStreams > 0 && live.Count > MaxLiveStreams)
        {
            EvictOldest(Math.Max(1, MaxLiveStreams / 10), state);
        }
    }

    /// <summary>Keeps a stream's committed serialised state without making it live (restore beyond the live limit).</summary>
    public void PutEvicted(string streamId, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(streamId);
        live.Remove(streamId);
        unflushed.Remove(streamId);
        evicted[streamId] = data;
    }

    /// <summary>Live streams changed since the last call to <see cref="ClearDirty"/>.</summary>
    public IEnumerable<StreamState> DirtyStreams => live.Values.Where(s => s.Dirty);

    /// <summary>
    /// Evicted streams whose serialised state holds changes since the last call to <see cref="ClearDirty"/> (they were
    /// evicted while dirty): the transport writes these bytes to the changelog like the dirty live streams.
    /// </summary>
    public IEnumerable<KeyValuePair<string, byte[]>> DirtyEvicted => unflushed.Select(id => new KeyValuePair<string, byte[]>(id, evicted[id]));

    /// <summary>Marks every stream clean, live or evicted (after a committed transaction wrote their changelog records).</summary>
    public void ClearDirty()
    {
        foreach (var s in live.Values)
        {
            s.Dirty = false;
        }

        unflushed.Clear();
    }

    /// <summary>Evicts the least recently used streams, never <paramref name="keep"/> (the stream about to be stepped).</summary>
    private void EvictOldest(int count, StreamState keep)
    {
        var victims = live.Values.Where(s => !ReferenceEquals(s, keep)).OrderBy(s => s.LastTouched).Take(count).ToList();
        foreach (var v in victims)
        {
            live.Remove(v.StreamId);
            evicted[v.StreamId] = StreamStateCodec.ToBytes(v);
            if (v.Dirty)
            {
                unflushed.Add(v.StreamId);
            }

            Evictions++;
        }
    }
}
