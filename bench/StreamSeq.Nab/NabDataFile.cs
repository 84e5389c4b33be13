namespace StreamSeq.Nab;

/// <summary>One data file of the NAB corpus: its row timestamps and its labelled anomaly windows.</summary>
/// <remarks>
/// Rows are numbered from 0 in file order. A window spans the rows from the one stamped <see cref="AnomalyWindow.Start"/>
/// to the one stamped <see cref="AnomalyWindow.End"/>. The first <see cref="ProbationLength"/> rows are probationary:
/// detections there are ignored, and so are window rows there.
/// </remarks>
public sealed class NabDataFile
{
    private readonly int[] windowStartRows;
    private readonly int[] windowEndRows;
    private FileRowModel? rowModel;

    /// <summary>Creates a data file and maps its windows to rows.</summary>
    /// <param name="relativePath">Path inside the corpus, "category/name.csv".</param>
    /// <param name="timestamps">Row timestamps in file order.</param>
    /// <param name="windows">Anomaly windows in time order; they must not overlap or touch.</param>
    /// <exception cref="ArgumentException">A window timestamp is not exactly one row's, or windows are out of order.</exception>
    public NabDataFile(string relativePath, IReadOnlyList<DateTime> timestamps, IReadOnlyList<AnomalyWindow> windows)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(relativePath);
        ArgumentNullException.ThrowIfNull(timestamps);
        ArgumentNullException.ThrowIfNull(windows);
        if (timestamps.Count == 0)
        {
            throw new ArgumentException($"{relativePath}: the file has no rows.", nameof(timestamps));
        }

        RelativePath = relativePath.Replace('\\', '/');
        var slash = RelativePath.LastIndexOf('/');
        Category = slash < 0 ? string.Empty : RelativePath[..slash];
        Name = RelativePath[(slash + 1)..];
        Timestamps = [.. timestamps];
        Windows = [.. windows];
        ProbationLength = NabScorer.ProbationLength(timestamps.Count);

        var rowOf = new Dictionary<DateTime, int>(timestamps.Count);
        for (var i = 0; i < timestamps.Count; i++)
        {
            // A timestamp seen twice cannot bound a window (NAB requires exactly one matching row).
            rowOf[timestamps[i]] = rowOf.ContainsKey(timestamps[i]) ? -1 : i;
        }

        windowStartRows = new int[windows.Count];
        windowEndRows = new int[windows.Count];
        for (var w = 0; w < windows.Count; w++)
        {
            windowStartRows[w] = RowOf(rowOf, windows[w].Start, w, "start");
            windowEndRows[w] = RowOf(rowOf, windows[w].End, w, "end");
            if (windowEndRows[w] < windowStartRows[w])
            {
                throw new ArgumentException($"{RelativePath}: window {w} ends (row {windowEndRows[w]}) before it starts (row {windowStartRows[w]}).", nameof(windows));
            }

            if (w > 0 && windowStartRows[w] <= windowEndRows[w - 1])
            {
                throw new ArgumentException($"{RelativePath}: window {w} starts at row {windowStartRows[w]}, not after window {w - 1} ends (row {windowEndRows[w - 1]}).", nameof(windows));
            }
        }

        ScoredWindowCount = windowEndRows.Count(end => end >= ProbationLength);
    }

    /// <summary>Path inside the corpus, "category/name.csv", with forward slashes.</summary>
    public string RelativePath { get; }

    /// <summary>The category folder (e.g. "realKnownCause"), empty for a file at the corpus root.</summary>
    public string Category { get; }

    /// <summary>The file name, e.g. "nyc_taxi.csv".</summary>
    public string Name { get; }

    /// <summary>Row timestamps in file order.</summary>
    public IReadOnlyList<DateTime> Timestamps { get; }

    /// <summary>The labelled anomaly windows in time order.</summary>
    public IReadOnlyList<AnomalyWindow> Windows { get; }

    /// <summary>Number of rows.</summary>
    public int RowCount => Timestamps.Count;

    /// <summary>Number of probationary rows: min(floor(0.15 n), 750).</summary>
    public int ProbationLength { get; }

    /// <summary>Windows with at least one row after probation; only these are scored (a missed one costs fnWeight).</summary>
    public int ScoredWindowCount { get; }

    /// <summary>First row of each window.</summary>
    internal ReadOnlySpan<int> WindowStartRows => windowStartRows;

    /// <summary>Last row of each window.</summary>
    internal ReadOnlySpan<int> WindowEndRows => windowEndRows;

    /// <summary>Profile-independent per-row rewards and window membership, computed once.</summary>
    internal FileRowModel Rows => rowModel ??= new FileRowModel(this);

    private int RowOf(Dictionary<DateTime, int> rowOf, DateTime timestamp, int window, string edge)
    {
        if (!rowOf.TryGetValue(timestamp, out var row))
        {
            throw new ArgumentException($"{RelativePath}: window {window} {edge} {timestamp:yyyy-MM-dd HH:mm:ss.ffffff} is not a timestamp of the file.");
        }

        if (row < 0)
        {
            throw new ArgumentException($"{RelativePath}: window {window} {edge} {timestamp:yyyy-MM-dd HH:mm:ss.ffffff} matches more than one row.");
        }

        return row;
    }
}
