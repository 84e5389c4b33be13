using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Detection;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Detection;

public sealed class AnomalyFileRunnerTests : IDisposable
{
    private static readonly DateTime Start = new(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly string folder = Path.Combine(Path.GetTempPath(), "streamseq-detect-" + Guid.NewGuid().ToString("N"));

    public AnomalyFileRunnerTests() => Directory.CreateDirectory(folder);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Score_SeriesThroughTheWorkersProcessor_GivesTheSameScores()
    {
        var (times, values) = Series(1200, seed: 3, spikeAt: 900);
        var runner = new AnomalyFileRunner();
        var direct = new double[values.Length];
        runner.Score(times, values, direct);

        var binding = TestModels.Binding("""{"name":"streamseq","kind":"anomaly-detector"}""");
        using var processor = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var store = new StateStore();
        var sink = new ListSink();
        for (var i = 0; i < values.Length; i++)
        {
            var ms = (times[i] - DateTime.UnixEpoch).TotalMilliseconds.ToString("R", CultureInfo.InvariantCulture);
            var json = $"{{\"time\":{ms},\"values\":[{values[i].ToString("R", CultureInfo.InvariantCulture)}]}}";
            processor.ProcessEncoded(Encoding.UTF8.GetBytes(json), "s", double.NaN, default, new SourcePosition("in", 0, i), store, sink);
        }

        var viaProcessor = sink.Of(OutputKind.Filtered).Select(r => r.GetProperty("anomalyScore").GetDouble()).ToArray();
        Assert.Equal(direct, viaProcessor);
        Assert.Equal(900, Array.IndexOf(direct, direct.Max()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(117)]
    [InlineData(900)]
    [InlineData(1999)]
    public void Score_APrefixOfTheSeries_ScoresItsRowsAsTheWholeSeriesDoes(int rows)
    {
        // Online: a row's score depends on the rows before it only, never on how long the file turns out to be.
        var (times, values) = Series(2000, seed: 9, spikeAt: 900);
        var whole = new double[values.Length];
        new AnomalyFileRunner().Score(times, values, whole);

        var prefix = new double[rows];
        new AnomalyFileRunner().Score(times[..rows], values.AsSpan(0, rows), prefix);

        Assert.Equal(whole[..rows], prefix);
    }

    [Fact]
    public void Thresholds_DefaultSpec_AreTheShippedOnes()
    {
        Assert.Same(StreamSeq.Estimation.Detection.AnomalyDetectorOptions.Default.Thresholds, new AnomalyFileRunner().Thresholds);
        Assert.Empty(new AnomalyFileRunner(ModelSpec.Parse("""{"name":"x","kind":"anomaly-detector","warmupLength":20}""")).Thresholds);
    }

    [Fact]
    public void ScoreFile_NabCsv_WritesTimestampValueAndScore()
    {
        var (times, values) = Series(600, seed: 1, spikeAt: 450);
        values[100] = double.NaN;
        var input = WriteNab(Path.Combine(folder, "in.csv"), times, values);
        var output = Path.Combine(folder, "out", "scores.csv");

        var rows = new AnomalyFileRunner().ScoreFile(input, output);

        var inLines = File.ReadAllLines(input);
        var outLines = File.ReadAllLines(output);
        Assert.Equal(600, rows);
        Assert.Equal("timestamp,value,anomaly_score", outLines[0]);
        Assert.Equal(inLines.Length, outLines.Length);
        var scores = new double[rows];
        for (var i = 1; i < outLines.Length; i++)
        {
            var fields = outLines[i].Split(',');
            Assert.Equal(inLines[i], fields[0] + "," + fields[1]);
            scores[i - 1] = double.Parse(fields[2], CultureInfo.InvariantCulture);
            Assert.InRange(scores[i - 1], 0.0, 1.0);
        }

        Assert.Equal(0.0, scores[100]);
        Assert.Equal(450, Array.IndexOf(scores, scores.Max()));
        var inMemory = new double[rows];
        values[100] = double.NaN;
        new AnomalyFileRunner().Score(times, values, inMemory);
        Assert.Equal(inMemory, scores);
    }

    [Fact]
    public void ScoreFolder_NabDataLayout_WritesNabResultsLayout()
    {
        var data = Path.Combine(folder, "data");
        var (times, values) = Series(300, seed: 2, spikeAt: 250);
        WriteNab(Path.Combine(data, "realA", "one.csv"), times, values);
        WriteNab(Path.Combine(data, "realA", "two.csv"), times, values);
        WriteNab(Path.Combine(data, "artificialB", "three.csv"), times, values);
        var results = Path.Combine(folder, "results");

        var scored = new AnomalyFileRunner().ScoreFolder(data, results, "mine", parallelism: 2);

        Assert.Equal(["artificialB/three.csv", "realA/one.csv", "realA/two.csv"], scored.Select(f => f.RelativePath));
        Assert.All(scored, f => Assert.Equal(300, f.Rows));
        Assert.True(File.Exists(Path.Combine(results, "mine", "realA", "mine_one.csv")));
        Assert.True(File.Exists(Path.Combine(results, "mine", "realA", "mine_two.csv")));
        Assert.True(File.Exists(Path.Combine(results, "mine", "artificialB", "mine_three.csv")));
        Assert.Equal(File.ReadAllLines(Path.Combine(results, "mine", "realA", "mine_one.csv")), File.ReadAllLines(Path.Combine(results, "mine", "artificialB", "mine_three.csv")));
    }

    [Fact]
    public void ScoreFile_BadTimestamp_FailsNamingFileAndLine()
    {
        var input = Path.Combine(folder, "bad.csv");
        File.WriteAllText(input, "timestamp,value\n2024-03-01 00:00:00,1\nyesterday,2\n");

        var e = Assert.Throws<FormatException>(() => new AnomalyFileRunner().ScoreFile(input, Path.Combine(folder, "o.csv")));

        Assert.Contains("bad.csv:3", e.Message, StringComparison.Ordinal);
        Assert.Contains("yesterday", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScoreFile_RowsBreakingTheInputRules_AreRejectedWithLineAndNotScored()
    {
        var (times, values) = Series(40, seed: 2, spikeAt: 30);
        var clean = WriteNab(Path.Combine(folder, "clean.csv"), times, values);
        var text = File.ReadAllLines(clean).ToList();
        text.Insert(11, "2024-03-01 00:47:00,abc");
        text.Insert(21, "2024-03-01 00:01:00,20");
        text.Insert(31, "2024-03-01 02:22:00,21,22");
        text.Insert(36, "2024-03-01 02:47:00,Infinity");
        var dirty = Path.Combine(folder, "dirty.csv");
        File.WriteAllLines(dirty, text);
        var rejected = new List<string>();

        var rows = new AnomalyFileRunner().ScoreFile(dirty, Path.Combine(folder, "dirty-scores.csv"), rejected: rejected.Add);
        new AnomalyFileRunner().ScoreFile(clean, Path.Combine(folder, "clean-scores.csv"));

        Assert.Equal(40, rows);
        Assert.Equal(
            ["dirty.csv:12: unparseable", "dirty.csv:22: too-late", "dirty.csv:32: unparseable", "dirty.csv:37: unparseable"],
            rejected.Select(r => string.Join(':', r.Split(':').Take(3))));
        Assert.Contains("'abc' is not a number", rejected[0], StringComparison.Ordinal);
        Assert.Contains("has 3 columns", rejected[2], StringComparison.Ordinal);
        Assert.Equal(File.ReadAllLines(Path.Combine(folder, "clean-scores.csv")), File.ReadAllLines(Path.Combine(folder, "dirty-scores.csv")));
    }

    /// <summary>
    /// A row longer than the CSV reader's limit (16 MiB less 64 KiB) failed the whole file ("cannot read the CSV"), where
    /// run reports it and reads on: it is rejected as too-large with its file and line, and the rows after it are scored
    /// as if it were not there. When the cut part of the row holds line breaks inside a quoted cell, the rows after it
    /// keep the lines they have in the file.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ScoreFile_RowOverTheCsvLimit_IsRejectedAsTooLargeWithItsLineAndTheRestIsScored(bool lineBreaksInTheCutPart)
    {
        var huge = lineBreaksInTheCutPart ? "\"" + new string('1', 17 << 20) + "\n\n\"" : new string('1', 17 << 20);
        var input = Path.Combine(folder, "big.csv");
        File.WriteAllText(input, $"timestamp,value\n2024-03-01 00:00:00,1\n2024-03-01 00:05:00,{huge}\n2024-03-01 00:10:00,x\n2024-03-01 00:15:00,3\n2024-03-01 00:20:00,4");
        var clean = Path.Combine(folder, "clean.csv");
        File.WriteAllText(clean, "timestamp,value\n2024-03-01 00:00:00,1\n2024-03-01 00:15:00,3\n2024-03-01 00:20:00,4\n");
        var rejected = new List<string>();

        var rows = new AnomalyFileRunner().ScoreFile(input, Path.Combine(folder, "big-scores.csv"), rejected: rejected.Add);
        new AnomalyFileRunner().ScoreFile(clean, Path.Combine(folder, "clean-scores.csv"));

        Assert.Equal(3, rows);
        Assert.Equal(2, rejected.Count);
        Assert.StartsWith("big.csv:3: too-large: row is longer than the limit of 16711680 characters.", rejected[0], StringComparison.Ordinal);
        Assert.StartsWith($"big.csv:{(lineBreaksInTheCutPart ? 6 : 4)}: unparseable: column 'value'", rejected[1], StringComparison.Ordinal);
        Assert.Equal(File.ReadAllLines(Path.Combine(folder, "clean-scores.csv")), File.ReadAllLines(Path.Combine(folder, "big-scores.csv")));
    }

    /// <summary>Without a callback for rejected rows (--on-error fail), the over-long row fails the file naming its line and reason.</summary>
    [Fact]
    public void ScoreFile_RowOverTheCsvLimitWithoutRejectedCallback_FailsNamingItsLineAndWritesNothing()
    {
        var input = Path.Combine(folder, "big.csv");
        File.WriteAllText(input, $"timestamp,value\n2024-03-01 00:00:00,1\n2024-03-01 00:05:00,{new string('1', 17 << 20)}\n2024-03-01 00:10:00,3\n");
        var output = Path.Combine(folder, "big-scores.csv");

        var e = Assert.Throws<FormatException>(() => new AnomalyFileRunner().ScoreFile(input, output));

        Assert.Equal("big.csv:3: too-large: row is longer than the limit of 16711680 characters.", e.Message);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void ScoreFile_RepeatedTimestamp_IsScoredAsNabExpectsOneScorePerRow()
    {
        var input = Path.Combine(folder, "dst.csv");
        File.WriteAllText(input, "timestamp,value\n2014-03-09 02:00:00,1\n2014-03-09 03:00:00,2\n2014-03-09 03:00:00,3\n2014-03-09 04:00:00,4\n");

        Assert.Equal(4, new AnomalyFileRunner().ScoreFile(input, Path.Combine(folder, "dst-scores.csv")));
    }

    [Fact]
    public void ScoreFolder_EmptyAndGarbageFiles_AreReportedAndEveryGoodFileIsScored()
    {
        var (times, values) = Series(300, seed: 5, spikeAt: 200);
        var data = Path.Combine(folder, "data");
        WriteNab(Path.Combine(data, "a", "first.csv"), times, values);
        Directory.CreateDirectory(Path.Combine(data, "b"));
        File.WriteAllText(Path.Combine(data, "b", "empty.csv"), string.Empty);
        File.WriteAllBytes(Path.Combine(data, "b", "garbage.csv"), [.. Enumerable.Range(0, 400).Select(i => (byte)((i * 37) % 256))]);
        WriteNab(Path.Combine(data, "c", "last.csv"), times, values);
        var results = Path.Combine(folder, "results");

        var scored = new AnomalyFileRunner().ScoreFolder(data, results, "det", rejected: _ => { });

        Assert.Equal(["a/first.csv", "b/empty.csv", "b/garbage.csv", "c/last.csv"], scored.Select(f => f.RelativePath));
        Assert.Equal([300L, 0L, 0L, 300L], scored.Select(f => f.Rows));
        Assert.NotNull(scored[1].Error);
        Assert.NotNull(scored[2].Error);
        Assert.Equal(
            [Path.Combine(results, "det", "a", "det_first.csv"), Path.Combine(results, "det", "c", "det_last.csv")],
            Directory.GetFiles(results, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Constructor_ModelWithoutAnomalyScore_FailsNamingTheKind()
    {
        var spec = ModelSpec.Parse(TestModels.LocalLevel);

        var e = Assert.Throws<ModelValidationException>(() => new AnomalyFileRunner(spec));

        Assert.Equal("kind", e.Field);
        Assert.Contains("anomalyScore", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ResultsPath_CategoryFile_FollowsNabLayout()
    {
        var path = AnomalyFileRunner.ResultsPath("/r", "det", "realTweets/Twitter_volume_X.csv");

        Assert.Equal(Path.Combine("/r", "det", "realTweets", "det_Twitter_volume_X.csv"), path);
    }

    private static (DateTime[] Times, double[] Values) Series(int n, int seed, int spikeAt)
    {
        var rng = new Random(seed);
        var times = new DateTime[n];
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            times[i] = Start.AddMinutes(5 * i);
            values[i] = Math.Round(20 + (5 * Math.Sin(2 * Math.PI * i / 288.0)) + (rng.NextDouble() - 0.5), 3);
        }

        values[spikeAt] += 30;
        return (times, values);
    }

    private static string WriteNab(string path, DateTime[] times, double[] values)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var text = new StringBuilder("timestamp,value\n");
        for (var i = 0; i < times.Length; i++)
        {
            text.Append(times[i].ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(',')
                .Append(double.IsNaN(values[i]) ? string.Empty : values[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        File.WriteAllText(path, text.ToString());
        return path;
    }
}
