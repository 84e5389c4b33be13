using System.Globalization;
using nietras.SeparatedValues;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Detection;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Files;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Detection;

/// <summary>
/// Runs an anomaly-scoring model over NAB-style CSV files (<c>timestamp,value</c>; a <c>time</c> column is accepted
/// for the timestamp too, as in the CLI's observation files) and writes
/// <c>timestamp,value,anomaly_score</c>: one file, or a folder laid out like NAB's <c>data</c> mirrored into NAB's
/// results layout <c>&lt;results&gt;/&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;name&gt;.csv</c>.
/// </summary>
/// <remarks>
/// Each file is one stream, stepped one row at a time with only past rows, with the same model time and gaps as the
/// worker: a row's model time is its epoch milliseconds over the spec's time unit, and the gap is the difference to
/// the previous row (0 at the first). Timestamps without an offset are UTC. Rows are checked by
/// <see cref="InputRules"/> like every other input: an empty or <c>NaN</c> value is missing, any other value must be a
/// finite number.
/// The model must observe one component and report an <c>anomalyScore</c> extra (the <c>anomaly-detector</c> kind
/// does); with no spec, <see cref="DefaultSpec"/> (the shipped detector) is used.
/// </remarks>
public sealed class AnomalyFileRunner
{
    /// <summary>The extra holding the per-row score.</summary>
    public const string ScoreExtra = "anomalyScore";

    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mm:ss",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm",
    ];

    private readonly int scoreOffset;
    private readonly double unitMilliseconds;

    /// <summary>Creates a runner for a model spec (null: <see cref="DefaultSpec"/>).</summary>
    /// <exception cref="ModelValidationException">The spec is invalid, observes more than one component or has no anomaly score.</exception>
    public AnomalyFileRunner(ModelSpec? spec = null)
    {
        Spec = spec ?? DefaultSpec;
        Estimator = ModelCatalog.Build(Spec);
        if (Estimator.Info.ObservationDimension != 1)
        {
            throw new ModelValidationException("kind", $"model '{Spec.Name}' observes {Estimator.Info.ObservationDimension} components; NAB files have one value per row.");
        }

        scoreOffset = Estimator.Info.ExtraOffset(ScoreExtra);
        if (scoreOffset < 0)
        {
            throw new ModelValidationException("kind", $"model '{Spec.Name}' ({Estimator.Info.Family}) reports no '{ScoreExtra}'; use kind 'anomaly-detector'.");
        }

        unitMilliseconds = Spec.TimeUnit.TotalMilliseconds;
        Thresholds = (Estimator as AnomalyDetector)?.Options.Thresholds ?? new Dictionary<string, DetectorThreshold>(StringComparer.Ordinal);
    }

    /// <summary>
    /// The alert thresholds the model ships with, by NAB profile name (empty when the spec changes the detector's
    /// settings without giving thresholds for them).
    /// </summary>
    public IReadOnlyDictionary<string, DetectorThreshold> Thresholds { get; }

    /// <summary>The shipped detector: <c>{"name": "streamseq", "kind": "anomaly-detector"}</c>.</summary>
    public static ModelSpec DefaultSpec => ModelSpec.Parse("""{"name": "streamseq", "kind": "anomaly-detector"}""", "default detector");

    /// <summary>The model spec.</summary>
    public ModelSpec Spec { get; }

    /// <summary>The estimator stepped for every file.</summary>
    public IEstimator Estimator { get; }

    /// <summary>Scores a series held in memory: one anomaly score per row, using only the rows before it.</summary>
    /// <param name="timestamps">Row times (UTC).</param>
    /// <param name="values">Row values; NaN is missing.</param>
    /// <param name="scores">Receives one score per row.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void Score(IReadOnlyList<DateTime> timestamps, ReadOnlySpan<double> values, Span<double> scores)
    {
        ArgumentNullException.ThrowIfNull(timestamps);
        if (timestamps.Count != values.Length || scores.Length != values.Length)
        {
            throw new ArgumentException($"{timestamps.Count} timestamps, {values.Length} values and {scores.Length} score slots must match.", nameof(scores));
        }

        var stream = new StreamCursor(this);
        for (var i = 0; i < values.Length; i++)
        {
            scores[i] = stream.Step(ToEpochMilliseconds(timestamps[i]), values[i]);
        }
    }

    /// <summary>Scores one NAB-style CSV file and writes <c>timestamp,value,anomaly_score</c>; returns the rows written.</summary>
    /// <param name="inputPath">The data file.</param>
    /// <param name="outputPath">The results file: written under a temporary name and renamed into place on success.</param>
    /// <param name="bytesRead">Called with the input characters read so far (for progress).</param>
    /// <param name="rejected">
    /// Receives each rejected row as "file:line: reason: message" and scoring goes on without it; null: the first
    /// rejected row throws.
    /// </param>
    /// <remarks>
    /// Rows follow <see cref="InputRules"/> as <c>run</c> does: a value must be a finite number, or empty or
    /// <c>NaN</c> for a missing one; a row must have as many columns as the header; time may not go backwards. A row
    /// stamped with the previous row's time is scored with a zero gap, because NAB's files have such rows (clock
    /// changes) and NAB expects one score per row.
    /// </remarks>
    /// <exception cref="FormatException">
    /// The header is missing or malformed, a row is rejected with no <paramref name="rejected"/> callback, or every row is
    /// rejected (no results file is written then).
    /// </exception>
    /// <exception cref="FileNotFoundException">The input file does not exist.</exception>
    /// <exception cref="OutputFileException">The results file cannot be written (a full disk, a read-only folder).</exception>
    public long ScoreFile(string inputPath, string outputPath, Action<long>? bytesRead = null, Action<string>? rejected = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(inputPath);
        return ScoreNamedFile(inputPath, Path.GetFileName(inputPath), outputPath, bytesRead, rejected);
    }

    /// <summary><see cref="ScoreFile"/>, naming the file <paramref name="name"/> in its messages.</summary>
    /// <remarks>
    /// A folder's files are named by their path below the data folder: NAB's categories hold files of the same name, and
    /// "a.csv:3" did not say which one a rejected row was in.
    /// </remarks>
    private long ScoreNamedFile(string inputPath, string name, string outputPath, Action<long>? bytesRead, Action<string>? rejected)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException(null, inputPath);
        }

        using var input = new CsvRows(new StreamReader(inputPath), name);
        if (input.Header.IsEmpty)
        {
            throw new FormatException($"{name}:1: file is empty (expected a header 'timestamp,value').");
        }

        var names = input.Header.ColNames;
        var timeColumn = IndexOf(names, "timestamp", "time");
        var valueColumn = IndexOf(names, "value", "value");
        if (timeColumn < 0 || valueColumn < 0)
        {
            var header = string.Join(",", names);
            throw new FormatException($"{name}:1: header '{(header.Length > 60 ? header[..60] + "..." : header)}' needs a 'timestamp' (or 'time') column and a 'value' column.");
        }

        // One file is one series: a stream column was ignored, and a file of several streams was scored as one series
        // mixing their readings (most rows rejected as out of order, the rest scored against other streams' values).
        if (names.Contains("stream"))
        {
            throw new FormatException($"{name}:1: has a 'stream' column, but detect scores each file as one series (timestamp,value); to score several streams of one file, run it with a spec of kind anomaly-detector (streamseq run --model examples/nab-detector.json), which keeps a detector per stream.");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
        if (!string.IsNullOrEmpty(directory))
        {
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A read-only results folder: said of the results file, as a failure to write it is.
                throw OutputFileException.For(outputPath, e);
            }
        }

        using var file = AtomicFile.Create(outputPath, null);
        long rows = 0, characters = 0, refused = 0;
        using (var output = new StreamWriter(file.Stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            output.Write("timestamp,value,anomaly_score\n");
            var stream = new StreamCursor(this);
            var lastTime = double.NaN;
            Span<char> number = stackalloc char[32];
            while (input.Next(out var failure) is var status && status != CsvReadStatus.End)
            {
                string? problem;
                if (status == CsvReadStatus.Error)
                {
                    if (input.Stopped)
                    {
                        // The rest of the file cannot be read: scores for part of a series are no results.
                        throw new FormatException($"{name}:{input.Line}: {failure}");
                    }

                    // A row over the length limit, skipped to its end as run skips it.
                    problem = $"{DeadLetterReasons.Name(DeadLetterReason.TooLarge)}: {failure}";
                    characters += CsvRowLimit.MaxRowLength + 1;
                }
                else
                {
                    var row = input.Current;
                    characters += row.Span.Length + 1;
                    if (TryReadRow(row, timeColumn, names[timeColumn], valueColumn, names.Count, lastTime, out var time, out var value, out problem))
                    {
                        lastTime = time;
                        var score = stream.Step(time, value);
                        output.Write(row[timeColumn].Span);
                        output.Write(',');
                        output.Write(row[valueColumn].Span);
                        output.Write(',');
                        score.TryFormat(number, out var written, "R", CultureInfo.InvariantCulture);
                        output.Write(number[..written]);
                        output.Write('\n');
                        rows++;
                        if ((rows & 1023) == 0)
                        {
                            bytesRead?.Invoke(characters);
                        }

                        continue;
                    }
                }

                var message = $"{name}:{input.Line}: {problem}";
                if (rejected is null)
                {
                    throw new FormatException(message);
                }

                rejected(message);
                refused++;
            }
        }

        if (rows == 0 && refused > 0)
        {
            // Nothing but a header would be written: no results file is better than one that looks like an empty series.
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"every row of {name} was rejected ({refused}); {Path.GetFileName(outputPath)} not written."));
        }

        file.Commit();
        bytesRead?.Invoke(characters);
        return rows;
    }

    /// <summary>
    /// Scores every <c>*.csv</c> below <paramref name="dataFolder"/> into NAB's results layout under
    /// <paramref name="resultsRoot"/>: <c>&lt;results&gt;/&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;name&gt;.csv</c>,
    /// where the category is the file's folder relative to <paramref name="dataFolder"/>. A file that cannot be
    /// scored (empty, no header, unreadable) is reported in its <see cref="ScoredFile.Error"/>, leaves no results
    /// file, and the other files are scored all the same.
    /// </summary>
    /// <param name="dataFolder">NAB's data folder (category folders inside), or any folder of CSV files.</param>
    /// <param name="resultsRoot">Where the detector's folder is created.</param>
    /// <param name="detectorName">NAB detector name used for the folder and file prefix.</param>
    /// <param name="parallelism">Files scored at once (each file is one sequential stream).</param>
    /// <param name="bytesRead">Called with the total input characters read so far (for progress).</param>
    /// <param name="rejected">Receives rejected rows (see <see cref="ScoreFile"/>); null: a rejected row fails its file.</param>
    /// <returns>Every data file, in path order, with the rows scored or the reason it was not.</returns>
    /// <exception cref="DirectoryNotFoundException">The data folder does not exist.</exception>
    public IReadOnlyList<ScoredFile> ScoreFolder(string dataFolder, string resultsRoot, string detectorName = "streamseq", int parallelism = 1, Action<long>? bytesRead = null, Action<string>? rejected = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataFolder);
        ArgumentException.ThrowIfNullOrWhiteSpace(resultsRoot);
        ArgumentException.ThrowIfNullOrWhiteSpace(detectorName);
        if (!Directory.Exists(dataFolder))
        {
            throw new DirectoryNotFoundException($"data folder not found: {dataFolder}");
        }

        var inputs = Directory.EnumerateFiles(dataFolder, "*.csv", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(dataFolder, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        var results = new ScoredFile[inputs.Length];
        long done = 0;
        var lockObject = new object();
        Parallel.For(0, inputs.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, i =>
        {
            var relative = inputs[i];
            var output = ResultsPath(resultsRoot, detectorName, relative);
            long last = 0;
            void Progress(long b)
            {
                lock (lockObject)
                {
                    done += b - last;
                    last = b;
                    bytesRead?.Invoke(done);
                }
            }

            void Reject(string message)
            {
                lock (lockObject)
                {
                    rejected!(message);
                }
            }

            try
            {
                var rows = ScoreNamedFile(Path.Combine(dataFolder, relative), relative, output, Progress, rejected is null ? null : Reject);
                results[i] = new ScoredFile(relative, output, rows);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                results[i] = new ScoredFile(relative, output, 0) { Error = e.Message, WriteFailed = e is OutputFileException };
            }
        });
        return results;
    }

    /// <summary>NAB's results path of a data file: <c>&lt;root&gt;/&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;name&gt;</c>.</summary>
    public static string ResultsPath(string resultsRoot, string detectorName, string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var normalized = relativePath.Replace('\\', '/');
        var slash = normalized.LastIndexOf('/');
        var category = slash < 0 ? string.Empty : normalized[..slash];
        var name = normalized[(slash + 1)..];
        return Path.Combine(resultsRoot, detectorName, category, detectorName + "_" + name);
    }

    /// <summary>Parses a NAB timestamp (UTC unless it carries an offset).</summary>
    public static bool TryParseTimestamp(string text, out DateTime utc) => TryParseTimestamp(text.AsSpan(), out utc);

    /// <summary>Parses a NAB timestamp from a span (UTC unless it carries an offset).</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<char> text, out DateTime utc) =>
        DateTime.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out utc)
        || DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out utc);

    private static int IndexOf(IReadOnlyList<string> names, string name, string alternative)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name || names[i] == alternative)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Checks and parses one row by the shared input rules; the problem names the reason and the column.</summary>
    private static bool TryReadRow(SepReader.Row row, int timeColumn, string timeName, int valueColumn, int columns, double lastTime, out double time, out double value, out string? problem)
    {
        time = double.NaN;
        value = double.NaN;
        if (row.ColCount != columns)
        {
            problem = $"unparseable: has {row.ColCount} columns, the header has {columns}.";
            return false;
        }

        var stamp = row[timeColumn].Span;
        if (!TryParseTimestamp(stamp, out var utc))
        {
            problem = InputRules.HasUndecodable(stamp)
                ? $"unparseable: column '{timeName}': {InputRules.NotUtf8}."
                : $"unparseable: column '{timeName}': '{stamp}' is not a timestamp (expected e.g. 2014-04-10 16:15:00).";
            return false;
        }

        time = ToEpochMilliseconds(utc);
        if (time < lastTime)
        {
            problem = $"too-late: time '{stamp}' is before the previous row's.";
            return false;
        }

        if (!InputRules.TryParseReading(row[valueColumn].Span, out value, out var reading))
        {
            problem = $"unparseable: column 'value': {reading}.";
            return false;
        }

        problem = null;
        return true;
    }

    private static double ToEpochMilliseconds(DateTime time)
    {
        var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;
        return (utc.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerMillisecond;
    }

    /// <summary>One stream's state and buffers, stepped row by row exactly as the processor steps a stream.</summary>
    private sealed class StreamCursor
    {
        private readonly AnomalyFileRunner owner;
        private readonly double[] state;
        private readonly Estimate estimate;
        private readonly double[] value = new double[1];
        private double lastModelTime = double.NaN;

        internal StreamCursor(AnomalyFileRunner owner)
        {
            this.owner = owner;
            var info = owner.Estimator.Info;
            state = new double[info.StateLength];
            estimate = new Estimate(info);
            owner.Estimator.Initialize(state, owner.Spec.Seed);
        }

        internal double Step(double epochMilliseconds, double y)
        {
            var modelTime = epochMilliseconds / owner.unitMilliseconds;
            var gap = double.IsNaN(lastModelTime) ? 0.0 : modelTime - lastModelTime;
            value[0] = y;
            owner.Estimator.Step(state, new Observation(value, gap, modelTime), estimate, default);
            lastModelTime = modelTime;
            var score = estimate.Extras[owner.scoreOffset];
            return double.IsFinite(score) ? Math.Clamp(score, 0.0, 1.0) : 0.0;
        }
    }
}
