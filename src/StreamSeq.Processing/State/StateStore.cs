namespace StreamSeq.Processing.State;

/// <summary>
/// The streams of one input partition (or of a whole file). Created on assignment and dropped on revocation; the
/// changelog is its durable copy. Lookups by a borrowed span allocate nothing.
/// </summary>
/// <remarks>
/// With <see cref="MaxLiveStreams"/> set, the least recently used streams beyond the limit are evicted to a compact
/// serialised tier and revived on their next record, so a flood of one-off stream ids cannot exhaust memory with live
/// filter objects.
/// </remarks>
public sealed class StateStore
{
    private readonly Dictionary<string, StreamState> live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamState>.AlternateLookup<ReadOnlySpan<char>> liveLookup;
    private readonly Dictionary<string, byte[]> evicted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> evictedLookup;
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

    /// <summary>Takes an evicted stream's serialised state out of the evicted tier, if present.</summary>
    public bool TryTakeEvicted(ReadOnlySpan<char> streamId, out string key, out byte[] data)
    {
        if (evictedLookup.TryGetValue(streamId, out var actualKey, out data!))
        {
            evicted.Remove(actualKey);
            key = actualKey;
            return true;
        }

        key = string.Empty;
        return false;
    }

    /// <summary>Adds (or replaces) a live stream, evicting the least recently used ones beyond the limit.</summary>
    public void Put(StreamState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.LastTouched = ++clock;
        live[state.StreamId] = state;
        evicted.Remove(state.StreamId);
        if (MaxLiveStreams > 0 && live.Count > MaxLiveStreams)
        {
            EvictOldest(Math.Max(1, MaxLiveStreams / 10), state);
        }
    }

    /// <summary>Keeps a stream's serialised state without making it live (restore beyond the live limit).</summary>
    public void PutEvicted(string streamId, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(streamId);
        live.Remove(streamId);
        evicted[streamId] = data;
    }

    /// <summary>Streams changed since the last call to <see cref="ClearDirty"/>.</summary>
    public IEnumerable<StreamState> DirtyStreams => live.Values.Where(s => s.Dirty);

    /// <summary>Marks every stream clean (after its changelog record was written).</summary>
    public void ClearDirty()
    {
        foreach (var s in live.Values)
        {
            s.Dirty = false;
        }
    }

    /// <summary>Evicts up to <paramref name="count"/> clean streams, least recently used first, never
    /// <paramref name="keep"/>: the stream just put is about to be stepped, and evicting it would lose that step.</summary>
    private void EvictOldest(int count, StreamState keep)
    {
        var victims = live.Values.Where(s => !s.Dirty && !ReferenceEquals(s, keep)).OrderBy(s => s.LastTouched).Take(count).ToList();
        foreach (var v in victims)
        {
            live.Remove(v.StreamId);
            evicted[v.StreamId] = StreamStateCodec.ToBytes(v);
            Evictions++;
        }
    }
}
