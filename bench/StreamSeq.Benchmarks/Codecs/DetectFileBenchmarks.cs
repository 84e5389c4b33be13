using BenchmarkDotNet.Attributes;
using StreamSeq.Processing.Detection;

namespace StreamSeq.Benchmarks.Codecs;

/// <summary>
/// <c>streamseq detect</c> on one NAB-style file, end to end: read the CSV, check and parse every row, step the
/// anomaly detector, write <c>timestamp,value,anomaly_score</c>. Rows per second is the file's row count over the
/// mean time. The file is NAB's <c>realKnownCause/nyc_taxi.csv</c> (10,320 rows) when a <c>shared/nab</c> folder is
/// found above the working directory (or <c>STREAMSEQ_NAB_FILE</c> names a file), else the bundled
/// <c>examples/nab-detector.csv</c>; the file is repeated to a fixed row count so a per-row allocation shows up as
/// allocated bytes that grow with <see cref="Copies"/>.
/// </summary>
[MemoryDiagnoser]
public class DetectFileBenchmarks
{
    private readonly AnomalyFileRunner runner = new();
    private string input = null!;
    private string output = null!;

    /// <summary>How many times the source file's rows are repeated (time keeps increasing).</summary>
    [Params(1, 4)]
    public int Copies { get; set; }

    /// <summary>Rows in the scored file.</summary>
    public long Rows { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var source = FindSource();
        var lines = File.ReadAllLines(source);
        var stamps = lines.Skip(1).Select(l => DateTime.Parse(l[..l.IndexOf(',', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var span = stamps[^1] - stamps[0] + (stamps[^1] - stamps[^2]);
        var dir = Directory.CreateTempSubdirectory("streamseq-detect-bench-").FullName;
        input = Path.Combine(dir, "input.csv");
        output = Path.Combine(dir, "scores.csv");
        using (var writer = new StreamWriter(input))
        {
            writer.Write("timestamp,value\n");
            for (var c = 0; c < Copies; c++)
            {
                for (var i = 1; i < lines.Length; i++)
                {
                    var comma = lines[i].IndexOf(',', StringComparison.Ordinal);
                    writer.Write((stamps[i - 1] + (c * span)).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
                    writer.Write(lines[i].AsSpan(comma));
                    writer.Write('\n');
                }
            }
        }

        Rows = (long)(lines.Length - 1) * Copies;
        Console.WriteLine($"// detect benchmark: {Rows} rows from {source}");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(Path.GetDirectoryName(input)!, recursive: true);

    [Benchmark(Description = "detect: score a NAB file (read, check, step, write)")]
    public long ScoreFile() => runner.ScoreFile(input, output);

    private static string FindSource()
    {
        if (Environment.GetEnvironmentVariable("STREAMSEQ_NAB_FILE") is { Length: > 0 } named && File.Exists(named))
        {
            return named;
        }

        foreach (var relative in new[] { Path.Combine("shared", "nab", "data", "realKnownCause", "nyc_taxi.csv"), Path.Combine("examples", "nab-detector.csv") })
        {
            for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException("no NAB file found: set STREAMSEQ_NAB_FILE or run from the repository.");
    }
}
