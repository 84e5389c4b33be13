namespace StreamSeq.Nab;

/// <summary>A detector's anomaly scores, one per row, for the files of a corpus.</summary>
public sealed class DetectorResults
{
    private readonly Dictionary<string, double[]> scores;

    /// <summary>Creates results from in-memory scores keyed by relative path ("category/name.csv").</summary>
    /// <param name="detectorName">The detector's name, e.g. "numenta".</param>
    /// <param name="anomalyScores">Per file, one anomaly score per row (in [0, 1] by NAB's convention).</param>
    public DetectorResults(string detectorName, IReadOnlyDictionary<string, double[]> anomalyScores)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(detectorName);
        ArgumentNullException.ThrowIfNull(anomalyScores);
        DetectorName = detectorName;
        scores = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (path, values) in anomalyScores)
        {
            scores[path.Replace('\\', '/')] = values;
        }
    }

    /// <summary>The detector's name.</summary>
    public string DetectorName { get; }

    /// <summary>The anomaly scores of one file.</summary>
    /// <exception cref="KeyNotFoundException">The results hold no scores for the file.</exception>
    public ReadOnlySpan<double> ScoresFor(string relativePath) =>
        scores.TryGetValue(relativePath, out var values)
            ? values
            : throw new KeyNotFoundException($"Detector '{DetectorName}' has no anomaly scores for {relativePath}.");

    /// <summary>Checks that every corpus file has exactly one score per row.</summary>
    /// <exception cref="InvalidDataException">A file is missing or has the wrong number of scores.</exception>
    public void EnsureCovers(NabCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        foreach (var file in corpus.Files)
        {
            if (!scores.TryGetValue(file.RelativePath, out var values))
            {
                throw new InvalidDataException($"Detector '{DetectorName}' has no anomaly scores for {file.RelativePath}.");
            }

            if (values.Length != file.RowCount)
            {
                throw new InvalidDataException($"Detector '{DetectorName}' has {values.Length} anomaly scores for {file.RelativePath}, which has {file.RowCount} rows.");
            }
        }
    }

    /// <summary>
    /// The path of a detector's results file in NAB's layout:
    /// <c>&lt;resultsRoot&gt;/&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;name&gt;.csv</c>.
    /// </summary>
    public static string ResultsPath(string resultsRoot, string detectorName, string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var slash = relativePath.LastIndexOf('/');
        var category = slash < 0 ? string.Empty : relativePath[..slash];
        var name = relativePath[(slash + 1)..];
        return Path.Combine(resultsRoot, detectorName, category, detectorName + "_" + name);
    }

    /// <summary>
    /// Loads a detector's results for every corpus file from NAB's layout (see <see cref="ResultsPath"/>); each CSV
    /// has "timestamp" and "anomaly_score" columns with the data file's rows in order.
    /// <paramref name="resultsRoot"/> is the folder holding the detector's folder; the detector's own folder is
    /// accepted too.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is missing, short, or its timestamps differ from the data file's.</exception>
    public static DetectorResults Load(string resultsRoot, string detectorName, NabCorpus corpus)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resultsRoot);
        ArgumentException.ThrowIfNullOrWhiteSpace(detectorName);
        ArgumentNullException.ThrowIfNull(corpus);
        var root = resultsRoot;
        if (!Directory.Exists(Path.Combine(root, detectorName))
            && string.Equals(Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), detectorName, StringComparison.Ordinal))
        {
            root = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(root)) ?? root;
        }

        var all = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var file in corpus.Files)
        {
            var path = ResultsPath(root, detectorName, file.RelativePath);
            if (!File.Exists(path))
            {
                throw new InvalidDataException($"Detector '{detectorName}': results file for {file.RelativePath} not found at {path}.");
            }

            var columns = NabCsv.ReadColumns(path, "timestamp", "anomaly_score");
            if (columns[0].Length != file.RowCount)
            {
                throw new InvalidDataException($"{path}: {columns[0].Length} rows, but data file {file.RelativePath} has {file.RowCount}.");
            }

            var timestamps = NabCsv.ParseTimestamps(path, columns[0]);
            for (var i = 0; i < timestamps.Length; i++)
            {
                if (timestamps[i] != file.Timestamps[i])
                {
                    throw new InvalidDataException($"{path}:{i + 2}: timestamp {columns[0][i]} differs from row {i} of {file.RelativePath} ({file.Timestamps[i]:yyyy-MM-dd HH:mm:ss}).");
                }
            }

            all[file.RelativePath] = NabCsv.ParseDoubles(path, "anomaly_score", columns[1]);
        }

        return new DetectorResults(detectorName, all);
    }
}
