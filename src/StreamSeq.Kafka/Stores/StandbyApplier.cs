using StreamSeq.Kafka.Transport;

namespace StreamSeq.Kafka.Stores;

/// <summary>
/// Keeps a disk store of a partition this instance does not own up to date from the partition's changelog, record by
/// record, with the restore rule of <see cref="ChangelogRestorer"/>: records count once an offset marker of their input
/// partition follows them. Only the thread that tails the changelog uses it.
/// </summary>
/// <remarks>
/// Records after the newest marker are held back in memory until a later marker arrives (then they count) or forever
/// (a transaction that never committed, superseded by the owner's re-writes before its next marker). A marker moves what
/// was held back into the store's staged batch together with the checkpoint just after the marker; <see cref="Flush"/>
/// writes them in one atomic batch. The store therefore holds what a restore of the whole changelog up to its
/// checkpoint gives, and the owner that takes the partition over reads only what follows the checkpoint. Records before
/// a marker found by reading back from the end (<see cref="CountBefore"/>) are staged as read, and may reach the store
/// ahead of the checkpoint: committed states, which the restore from the checkpoint overwrites with the same or newer.
/// </remarks>
internal sealed class StandbyApplier
{
    /// <summary>States staged at markers before a flush is due even while records keep coming.</summary>
    private const int FlushAfterStaged = 10_000;

    private readonly PartitionStore store;
    private readonly string inputTopic;
    private readonly byte[] markerKey;
    private readonly Dictionary<string, byte[]> heldBack = new(StringComparer.Ordinal);
    private StoreCheckpoint? due;
    private int staged;

    // Records before this offset are known to count (a marker of the partition follows them): they are staged as read.
    private long countsBefore = -1;

    private StandbyApplier(PartitionStore store, string inputTopic, int partition, StoreCheckpoint? checkpoint)
    {
        this.store = store;
        this.inputTopic = inputTopic;
        Partition = partition;
        markerKey = ChangelogKeys.OffsetKey(inputTopic, partition);
        Checkpoint = checkpoint;
    }

    /// <summary>The input partition (and changelog partition).</summary>
    public int Partition { get; }

    /// <summary>The store.</summary>
    public PartitionStore Store => store;

    /// <summary>The store's checkpoint as written (null: none yet, reading starts at the changelog's beginning).</summary>
    public StoreCheckpoint? Checkpoint { get; private set; }

    /// <summary>Records after the newest marker read, newest per stream, not in the store (yet).</summary>
    public int HeldBack => heldBack.Count;

    /// <summary>The most streams held back at once since the applier was opened.</summary>
    public int MostHeldBack { get; private set; }

    /// <summary>
    /// Says that a marker of the partition is at <paramref name="markerOffset"/> (found by reading back from the end):
    /// every record before it counts, and is staged as it is read instead of held back until the marker. Without it a
    /// compacted changelog, one marker after every state of the partition, would be held back whole, in memory.
    /// </summary>
    public void CountBefore(long markerOffset) => countsBefore = markerOffset;

    /// <summary>Changelog records read since the applier was opened or started over.</summary>
    public long Records { get; private set; }

    /// <summary>
    /// Takes over a store: its checkpoint says where to resume; a store without one, or with one of another input topic,
    /// is cleared, and reading starts at the changelog's beginning.
    /// </summary>
    public static StandbyApplier Open(PartitionStore store, string inputTopic, int partition)
    {
        store.DiscardStaged();
        var checkpoint = store.ReadCheckpoint();
        var applier = new StandbyApplier(store, inputTopic, partition, checkpoint is not null && checkpoint.InputTopic == inputTopic ? checkpoint : null);
        if (applier.Checkpoint is null)
        {
            applier.StartOver();
        }

        return applier;
    }

    /// <summary>Clears the store and forgets what was read: reading starts again at the changelog's beginning.</summary>
    public void StartOver()
    {
        heldBack.Clear();
        due = null;
        staged = 0;
        countsBefore = -1;
        Records = 0;
        Checkpoint = null;
        store.DiscardStaged();
        store.StageClear();
        store.Apply(null);
    }

    /// <summary>Takes the next changelog record of the partition; true when enough is staged that a flush is due.</summary>
    /// <param name="offset">Its offset.</param>
    /// <param name="key">Its key.</param>
    /// <param name="value">Its value (null: a tombstone).</param>
    public bool Add(long offset, byte[]? key, byte[]? value)
    {
        Records++;
        if (key is null)
        {
            return false;
        }

        if (!ChangelogKeys.IsOffsetKey(key))
        {
            // A key that is no stream id is skipped, as in a restore. A state is never empty: an empty value and a
            // tombstone both delete.
            if (!ChangelogKeys.TryReadStreamId(key, out var stream, out _))
            {
                return false;
            }

            if (offset < countsBefore)
            {
                // Counts (a marker follows): straight to the store's batch, written ahead of the checkpoint, as a
                // disk store may hold committed states newer than its checkpoint.
                heldBack.Remove(stream);
                store.StageRecord(stream, value);

                return ++staged >= FlushAfterStaged;
            }

            heldBack[stream] = value ?? [];
            MostHeldBack = Math.Max(MostHeldBack, heldBack.Count);
            return false;
        }

        // Markers of other input topics or partitions close nothing (as in a restore).
        if (value is null || !key.AsSpan().SequenceEqual(markerKey) || !ChangelogKeys.TryReadOffset(value, out var nextOffset))
        {
            return false;
        }

        var checkpoint = new StoreCheckpoint(offset + 1, nextOffset, inputTopic);
        foreach (var (stream, state) in heldBack)
        {
            store.StageRecord(stream, state);
        }

        staged += heldBack.Count;
        heldBack.Clear();
        due = checkpoint;
        return staged >= FlushAfterStaged;
    }

    /// <summary>
    /// The partition's end was reached at <paramref name="endOffset"/>: with nothing held back, everything before it that
    /// counts is in the store or staged, so the checkpoint may move there (past the commit's control record, which takes
    /// an offset but is never delivered). With records held back it stays just after the newest marker.
    /// </summary>
    public void AtEnd(long endOffset)
    {
        if (heldBack.Count == 0 && (due ?? Checkpoint) is { } last && endOffset > last.ChangelogOffset)
        {
            due = last with { ChangelogOffset = endOffset };
        }
    }

    /// <summary>
    /// Writes the states that count and the checkpoint after the newest marker read, in one atomic batch; true when there
    /// was a marker since the last flush. Records held back stay out of the store.
    /// </summary>
    public bool Flush()
    {
        if (due is null)
        {
            if (staged > 0)
            {
                // States known to count, staged as read before their marker (CountBefore): written without moving the checkpoint.
                store.Apply(null);
                staged = 0;
            }

            return false;
        }

        store.Apply(due);
        Checkpoint = due;
        due = null;
        staged = 0;
        return true;
    }
}
