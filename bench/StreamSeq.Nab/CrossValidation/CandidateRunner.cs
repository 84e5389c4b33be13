using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StreamSeq.Estimation.Detection;
using StreamSeq.Processing.Detection;
using StreamSeq.Processing.Records;

namespace StreamSeq.Nab.CrossValidation;

/// <summary>
/// Runs detector candidates over every file of a corpus, in memory and exactly as <c>streamseq detect</c> does (the
/// same <see cref="AnomalyFileRunner"/>), and caches each candidate's per-row scores: in memory for the run, and on
/// disk when a cache folder is given. A detector's scores depend only on its settings, its code and the data (never
/// on labels), so they are computed once per candidate and shared by every fold.
/// </summary>
/// <remarks>
/// A disk entry is keyed by a SHA-256 of the candidate's canonical settings, the module version ids of the detector
/// and runner assemblies (they change whenever the code does) and the data files' bytes, so a stale entry is never
/// read.
/// </remarks>
public sealed class CandidateRunner
{
    private readonly NabCorpus corpus;
    private readonly string dataDirectory;
    private readonly string? cacheDirectory;
    private readonly int parallelism;
    private readonly Lazy<double[][]> values;
    private readonly Lazy<string> dataFingerprint;
    private readonly Dictionary<string, DetectorResults> memory = new(StringComparer.Ordinal);
    private readonly Lock memoryLock = new();

    /// <summary>Creates a runner for the files of <paramref name="corpus"/> found under <paramref name="dataDirectory"/>.</summary>
    /// <param name="corpus">The files to score.</param>
    /// <param name="dataDirectory">NAB's data folder (category folders inside).</param>
    /// <param name="cacheDirectory">Where scores are cached between runs; null to keep them in memory only.</param>
    /// <param name="parallelism">Files scored at once.</param>
    public CandidateRunner(NabCorpus corpus, string dataDirectory, string? cacheDirectory = null, int parallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        this.corpus = corpus;
        this.dataDirectory = dataDirectory;
        this.cacheDirectory = cacheDirectory;
        this.parallelism = Math.Max(1, parallelism);
        values = new Lazy<double[][]>(LoadValues);
        dataFingerprint = new Lazy<string>(FingerprintData);
    }

    /// <summary>Detector runs done so far (cache misses), for reports.</summary>
    public int Runs { get; private set; }

    /// <summary>The candidate's anomaly scores for every corpus file.</summary>
    /// <exception cref="StreamSeq.Estimation.Abstractions.ModelValidationException">The candidate's settings are invalid.</exception>
    public DetectorResults Scores(DetectorCandidate candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var key = Key(candidate);
        lock (memoryLock)
        {
            if (memory.TryGetValue(key, out var known))
            {
                return known;
            }
        }

        var results = ReadCache(candidate, key) ?? Compute(candidate, key);
        lock (memoryLock)
        {
            memory[key] = results;
        }

        return results;
    }

    private DetectorResults Compute(DetectorCandidate candidate, string key)
    {
        var runner = new AnomalyFileRunner(candidate.Spec());
        var data = values.Value;
        var scores = new double[corpus.Files.Count][];
        Parallel.For(0, corpus.Files.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, i =>
        {
            var file = corpus.Files[i];
            var output = new double[file.RowCount];
            runner.Score(file.Timestamps, data[i], output);
            scores[i] = output;
        });
        lock (memoryLock)
        {
            Runs++;
        }

        WriteCache(key, scores);
        return Wrap(candidate, scores);
    }

    private DetectorResults Wrap(DetectorCandidate candidate, double[][] scores) =>
        new(candidate.Name, corpus.Files.Select((f, i) => (f.RelativePath, scores[i])).ToDictionary(p => p.RelativePath, p => p.Item2, StringComparer.Ordinal));

    private DetectorResults? ReadCache(DetectorCandidate candidate, string key)
    {
        if (cacheDirectory is null)
        {
            return null;
        }

        var path = Path.Combine(cacheDirectory, key + ".bin");
        if (!File.Exists(path))
        {
            return null;
        }

        using var reader = new BinaryReader(File.OpenRead(path));
        var scores = new double[corpus.Files.Count][];
        if (reader.ReadInt32() != scores.Length)
        {
            return null;
        }

        for (var i = 0; i < scores.Length; i++)
        {
            var rows = reader.ReadInt32();
            if (rows != corpus.Files[i].RowCount)
            {
                return null;
            }

            scores[i] = new double[rows];
            for (var r = 0; r < rows; r++)
            {
                scores[i][r] = reader.ReadDouble();
            }
        }

        return Wrap(candidate, scores);
    }

    private void WriteCache(string key, double[][] scores)
    {
        if (cacheDirectory is null)
        {
            return;
        }

        Directory.CreateDirectory(cacheDirectory);
        var path = Path.Combine(cacheDirectory, key + ".bin");
        var temporary = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temporary)))
        {
            writer.Write(scores.Length);
            foreach (var file in scores)
            {
                writer.Write(file.Length);
                foreach (var score in file)
                {
                    writer.Write(score);
                }
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    private string Key(DetectorCandidate candidate)
    {
        var text = new StringBuilder()
            .Append("streamseq-nab-cv/1\n")
            .Append(candidate.CanonicalSettings()).Append('\n')
            .Append(typeof(AnomalyDetector).Assembly.ManifestModule.ModuleVersionId.ToString("N")).Append('\n')
            .Append(typeof(AnomalyFileRunner).Assembly.ManifestModule.ModuleVersionId.ToString("N")).Append('\n')
            .Append(dataFingerprint.Value);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private string FingerprintData()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in corpus.Files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file.RelativePath + "\n"));
            hash.AppendData(File.ReadAllBytes(DataPath(file)));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private double[][] LoadValues() =>
        [.. corpus.Files.Select(file =>
        {
            var path = DataPath(file);
            var column = NabCsv.ReadColumns(path, "value")[0];
            if (column.Length != file.RowCount)
            {
                throw new InvalidDataException($"{path}: {column.Length} values for {file.RowCount} timestamps.");
            }

            // By the product's input rules, as the file runner reads them: empty or NaN is missing, anything else
            // must be a finite number.
            var values = new double[column.Length];
            for (var i = 0; i < column.Length; i++)
            {
                if (!InputRules.TryParseReading(column[i], out values[i], out var problem))
                {
                    throw new InvalidDataException($"{path}:{i + 2}: column 'value': {problem}.");
                }
            }

            return values;
        })];

    private string DataPath(NabDataFile file) => Path.Combine(dataDirectory, file.RelativePath);
}
