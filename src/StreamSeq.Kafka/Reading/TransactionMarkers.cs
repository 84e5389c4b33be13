using StreamSeq.Kafka.Transport;

namespace StreamSeq.Kafka.Reading;

/// <summary>
/// Which records of the worker's transactions count as committed on a broker that does not isolate transactions (the
/// embedded broker shows read_committed readers the records of aborted and open transactions too).
/// </summary>
/// <remarks>
/// <para>
/// Every record a worker transaction writes carries the <see cref="ChangelogKeys.TransactionHeader"/> stamp of its
/// transaction and input partition, and the last record the transaction writes for an input partition, just before
/// it commits, is that partition's offset marker in the changelog, stamped the same way. The rule: a stamped record
/// counts once the marker with its stamp has been read from the changelog; records without a stamp (written outside
/// worker transactions) always count. (The worker's restore needs no stamps: a state record counts when any offset
/// marker of its partition follows it; see <see cref="ChangelogRestorer"/>.)
/// </para>
/// <para>
/// Records whose marker has not been read yet are held, in arrival order, and released together when it arrives.
/// Held records of a transaction are dropped as aborted once a marker of a later transaction of the same writer (one
/// run of one instance) for the same input partition arrives: a writer runs its transactions one after the other and
/// writes a partition's markers in commit order, so an earlier transaction without a marker by then never committed.
/// Records of a crashed run never get a marker; at most <c>maxHeld</c> records are held, the oldest transactions'
/// records dropped first beyond that.
/// </para>
/// <para>
/// That inference needs every marker of a writer and partition in one changelog, read in order. With several changelogs
/// (<c>inferAborts</c> false) it does not hold: a compacted copy repeats a writer's newest marker, which may be read
/// before the writer's earlier markers in the original; then held records wait for their marker or the end of the read.
/// </para>
/// </remarks>
/// <typeparam name="T">The record type handed through.</typeparam>
internal sealed class TransactionMarkers<T>(Action<T> emit, int maxHeld = TransactionMarkers<T>.DefaultMaxHeld, bool inferAborts = true)
{
    /// <summary>Default bound on held records.</summary>
    public const int DefaultMaxHeld = 1_000_000;

    private readonly HashSet<string> committed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<T>> held = new(StringComparer.Ordinal);
    private readonly Queue<string> heldOrder = new();

    /// <summary>Records held now (their marker not read yet).</summary>
    public long Held { get; private set; }

    /// <summary>Records dropped as aborted (a later transaction of their writer committed) or to stay within the bound.</summary>
    public long Dropped { get; private set; }

    /// <summary>Takes a changelog offset marker into account: its transaction's records count from now on.</summary>
    public void Marker(string stamp)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        if (!committed.Add(stamp))
        {
            return;
        }

        if (held.Remove(stamp, out var records))
        {
            Held -= records.Count;
            foreach (var r in records)
            {
                emit(r);
            }
        }

        if (!inferAborts || held.Count == 0 || !TransactionStamp.TryParse(stamp, out var marker))
        {
            return;
        }

        foreach (var other in held.Keys.ToList())
        {
            if (TransactionStamp.TryParse(other, out var waiting)
                && waiting.Writer == marker.Writer && waiting.Partition == marker.Partition && waiting.Sequence < marker.Sequence)
            {
                Drop(other);
            }
        }
    }

    /// <summary>Hands a record on now when it counts, or holds it until its marker arrives.</summary>
    /// <param name="stamp">The record's transaction stamp, or null for a record written outside worker transactions.</param>
    /// <param name="record">The record.</param>
    public void Record(string? stamp, T record)
    {
        if (stamp is null || committed.Contains(stamp))
        {
            emit(record);
            return;
        }

        if (!held.TryGetValue(stamp, out var records))
        {
            held[stamp] = records = [];
            heldOrder.Enqueue(stamp);
            if (heldOrder.Count > (2 * held.Count) + 64)
            {
                // Released transactions leave their stamps behind in the queue: keep it proportional to what is held.
                var pending = heldOrder.Where(held.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
                heldOrder.Clear();
                foreach (var s in pending)
                {
                    heldOrder.Enqueue(s);
                }
            }
        }

        records.Add(record);
        Held++;
        while (Held > maxHeld && heldOrder.TryDequeue(out var oldest))
        {
            Drop(oldest);
        }
    }

    private void Drop(string stamp)
    {
        if (held.Remove(stamp, out var records))
        {
            Held -= records.Count;
            Dropped += records.Count;
        }
    }
}
