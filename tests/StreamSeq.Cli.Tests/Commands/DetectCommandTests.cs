using StreamSeq.Testing;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using StreamSeq.Cli.Commands;
using StreamSeq.Estimation.Detection;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Cli.Tests.Commands;

public sealed class DetectCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-detect-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Execute_ExampleFile_ScoresEveryRowAndFlagsTheSpikeMost()
    {
        var input = RepositoryFiles.Path("examples", "nab-detector.csv");
        var output = System.IO.Path.Combine(dir, "scores.csv");
        var errors = new StringWriter();

        var code = DetectCommand.Execute(input, output, "streamseq", RepositoryFiles.Path("examples", "nab-detector.json"), 1, TextWriter.Null, errors);

        Assert.Equal(0, code);
        var lines = File.ReadAllLines(output);
        Assert.Equal(File.ReadAllLines(input).Length, lines.Length);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        var scores = rows.Select(r => double.Parse(r[2], CultureInfo.InvariantCulture)).ToArray();
        Assert.All(scores, s => Assert.InRange(s, 0.0, 1.0));
        // The example has a +40 spike on 2024-03-02 at 17:40 (row 500).
        Assert.Equal("2024-03-02 17:40:00", rows[Array.IndexOf(scores, scores.Max())][0]);
        Assert.Contains("rows/s", errors.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The summary said "1 rows in 1 file(s) ...; 1 rows rejected": counts agree with their noun.</summary>
    [Fact]
    public void Execute_OneRowOneRejected_SummaryInTheSingular()
    {
        var input = System.IO.Path.Combine(dir, "one.csv");
        File.WriteAllLines(input, ["timestamp,value", "2024-01-01 00:00:00,1", "2024-01-01 00:05:00,abc"]);
        var errors = new StringWriter();

        var code = DetectCommand.Execute(input, System.IO.Path.Combine(dir, "o.csv"), "streamseq", null, 1, TextWriter.Null, errors);

        Assert.Equal(0, code);
        var summary = errors.ToString().Split('\n').Single(l => l.Contains(" scored by ", StringComparison.Ordinal));
        Assert.StartsWith("1 row in 1 file scored by 'streamseq' ", summary, StringComparison.Ordinal);
        Assert.EndsWith("; 1 row rejected.", summary.TrimEnd(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Over a folder, a rejected row was reported as "a.csv:3: ...", without its category: NAB's categories can hold
    /// files of the same name, and the line did not say which file to look in.
    /// </summary>
    [Fact]
    public void Execute_FolderWithTwoFilesOfOneName_RejectedRowNamesTheFileByItsPathInTheFolder()
    {
        var data = System.IO.Path.Combine(dir, "data");
        foreach (var (category, value) in new[] { ("cat1", "2"), ("cat2", "abc") })
        {
            Directory.CreateDirectory(System.IO.Path.Combine(data, category));
            File.WriteAllLines(System.IO.Path.Combine(data, category, "a.csv"), ["timestamp,value", "2024-01-01 00:00:00,1", $"2024-01-01 00:05:00,{value}", "2024-01-01 00:10:00,3"]);
        }

        var errors = new StringWriter();

        var code = DetectCommand.Execute(data, System.IO.Path.Combine(dir, "results"), "streamseq", null, 1, TextWriter.Null, errors);

        Assert.Equal(0, code);
        var lines = errors.ToString().Split('\n');
        Assert.Contains("cat2/a.csv:3: unparseable: column 'value': 'abc' is not a number.", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("a.csv:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("time")]
    [InlineData("timestamp")]
    public void Execute_ExampleFile_SameScoresAsRunThroughTheProcessor(string timeColumn)
    {
        // NAB's own files head their time column 'timestamp': 'run' takes such a file as it is, as 'detect' does.
        var model = RepositoryFiles.Path("examples", "nab-detector.json");
        var lines = File.ReadAllLines(RepositoryFiles.Path("examples", "nab-detector.csv"));
        Assert.Equal("time,value", lines[0]);
        var input = System.IO.Path.Combine(dir, "input.csv");
        File.WriteAllLines(input, [$"{timeColumn},value", .. lines.Skip(1)]);
        var scores = System.IO.Path.Combine(dir, "scores.csv");
        var records = System.IO.Path.Combine(dir, "run.jsonl");

        Assert.Equal(0, DetectCommand.Execute(input, scores, "streamseq", model, 1, TextWriter.Null, TextWriter.Null));
        Assert.Equal(0, RunCommand.Execute(model, input, records, 0, 0, false, 0, false, null, TextWriter.Null, TextWriter.Null));

        var detected = File.ReadAllLines(scores).Skip(1).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture));
        var run = File.ReadAllLines(records).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("anomalyScore").GetDouble());
        Assert.Equal(lines.Length - 1, run.Count());
        Assert.Equal(detected, run);
    }

    [Fact]
    public void Execute_Folder_WritesNabResultsLayoutUnderTheDetectorName()
    {
        var data = System.IO.Path.Combine(dir, "data", "artificialX");
        Directory.CreateDirectory(data);
        File.Copy(RepositoryFiles.Path("examples", "nab-detector.csv"), System.IO.Path.Combine(data, "example.csv"));
        var results = System.IO.Path.Combine(dir, "results");

        var code = DetectCommand.Execute(System.IO.Path.Combine(dir, "data"), results, "mine", null, 2, TextWriter.Null, TextWriter.Null);

        Assert.Equal(0, code);
        Assert.True(File.Exists(System.IO.Path.Combine(results, "mine", "artificialX", "mine_example.csv")));
    }

    [Fact]
    public void Execute_Folder_WritesTheShippedThresholdsBesideTheResultsInNabsLayout()
    {
        var data = ExampleDataFolder();
        var results = System.IO.Path.Combine(dir, "results");
        var errors = new StringWriter();

        Assert.Equal(0, DetectCommand.Execute(data, results, "mine", null, 1, TextWriter.Null, errors));

        using var thresholds = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(results, "thresholds.json")));
        var mine = thresholds.RootElement.GetProperty("mine");
        Assert.Equal(AnomalyDetectorOptions.Default.Thresholds.Count, mine.EnumerateObject().Count());
        foreach (var (profile, expected) in AnomalyDetectorOptions.Default.Thresholds)
        {
            Assert.Equal(expected.Threshold, mine.GetProperty(profile).GetProperty("threshold").GetDouble());
            Assert.Equal(expected.Score, mine.GetProperty(profile).GetProperty("score").GetDouble());
        }

        Assert.Contains("thresholds.json", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_Folder_ExistingThresholdsFile_KeepsTheOtherDetectors()
    {
        var data = ExampleDataFolder();
        var results = System.IO.Path.Combine(dir, "results");
        Directory.CreateDirectory(results);
        var path = System.IO.Path.Combine(results, "thresholds.json");
        File.WriteAllText(path, """{"numenta": {"standard": {"score": 1.5, "threshold": 0.55}}, "mine": {"old": {"score": 0, "threshold": 0.1}}}""");

        Assert.Equal(0, DetectCommand.Execute(data, results, "mine", RepositoryFiles.Path("examples", "nab-detector.json"), 1, TextWriter.Null, TextWriter.Null));

        using var thresholds = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(0.55, thresholds.RootElement.GetProperty("numenta").GetProperty("standard").GetProperty("threshold").GetDouble());
        Assert.False(thresholds.RootElement.GetProperty("mine").TryGetProperty("old", out _));
        Assert.True(thresholds.RootElement.GetProperty("mine").TryGetProperty("standard", out _));
    }

    [Fact]
    public void Execute_Folder_ThresholdsFileThatIsNotJson_FailsAndLeavesItAlone()
    {
        var data = ExampleDataFolder();
        var results = System.IO.Path.Combine(dir, "results");
        Directory.CreateDirectory(results);
        var path = System.IO.Path.Combine(results, "thresholds.json");
        File.WriteAllText(path, "my notes, not JSON");
        var errors = new StringWriter();
        var command = DetectCommand.Create(TextWriter.Null, errors);

        var code = new RootCommand { command }.Parse(["detect", "--input", data, "--output", results]).Invoke();

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("thresholds.json", errors.ToString(), StringComparison.Ordinal);
        Assert.Contains("not overwritten", errors.ToString(), StringComparison.Ordinal);
        Assert.Equal("my notes, not JSON", File.ReadAllText(path));
    }

    [Fact]
    public void Execute_Folder_OtherSettingsWithoutThresholds_WritesNoThresholdsAndSaysSo()
    {
        var data = ExampleDataFolder();
        var results = System.IO.Path.Combine(dir, "results");
        var model = System.IO.Path.Combine(dir, "model.json");
        File.WriteAllText(model, """{"name": "tuned", "kind": "anomaly-detector", "levelDiscount": 0.9}""");
        var errors = new StringWriter();

        Assert.Equal(0, DetectCommand.Execute(data, results, "mine", model, 1, TextWriter.Null, errors));

        Assert.False(File.Exists(System.IO.Path.Combine(results, "thresholds.json")));
        Assert.Contains("No thresholds written", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_Folder_SpecWithThresholds_WritesThem()
    {
        var data = ExampleDataFolder();
        var results = System.IO.Path.Combine(dir, "results");
        var model = System.IO.Path.Combine(dir, "model.json");
        File.WriteAllText(model, """{"name": "tuned", "kind": "anomaly-detector", "levelDiscount": 0.9, "thresholds": {"standard": {"threshold": 0.7, "score": 3}}}""");

        Assert.Equal(0, DetectCommand.Execute(data, results, "tuned", model, 1, TextWriter.Null, TextWriter.Null));

        using var thresholds = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(results, "thresholds.json")));
        Assert.Equal(0.7, thresholds.RootElement.GetProperty("tuned").GetProperty("standard").GetProperty("threshold").GetDouble());
    }

    [Fact]
    public void Invoke_MissingInput_ReportsTheFileAndFails()
    {
        var errors = new StringWriter();
        var command = DetectCommand.Create(TextWriter.Null, errors);
        var root = new RootCommand { command };

        var code = root.Parse(["detect", "--input", System.IO.Path.Combine(dir, "nope.csv"), "--output", System.IO.Path.Combine(dir, "o.csv")]).Invoke();

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("nope.csv", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExampleSpec_IsTheShippedConfiguration()
    {
        var spec = ModelSpec.Load(RepositoryFiles.Path("examples", "nab-detector.json"));

        var options = AnomalyDetectorKind.ReadOptions(spec.Reader());

        foreach (var property in typeof(AnomalyDetectorOptions).GetProperties())
        {
            var expected = property.GetValue(AnomalyDetectorOptions.Default);
            var actual = property.GetValue(options);
            if (expected is IEnumerable<double> periods)
            {
                Assert.Equal(periods, (IEnumerable<double>)actual!);
            }
            else
            {
                Assert.True(Equals(expected, actual), $"{property.Name}: the example says {actual}, the default is {expected}");
            }
        }
    }

    [Fact]
    public void Execute_FileWhoseNameHoldsControlCharacters_WrittenUnderItsNameAndPrintedEscapedOnOneLine()
    {
        var output = System.IO.Path.Combine(dir, "scores\u001b]0;x\u0007\r\nforged\u202Evsc.csv");
        var stdout = new StringWriter();

        var code = DetectCommand.Execute(RepositoryFiles.Path("examples", "nab-detector.csv"), output, "streamseq", null, 1, stdout, TextWriter.Null);

        Assert.Equal(0, code);
        Assert.True(File.Exists(output));
        Assert.Equal(System.IO.Path.Combine(dir, "scores\\x1B]0;x\\x07\\x0D\\x0Aforged\\u202Evsc.csv") + Environment.NewLine, stdout.ToString());
    }

    [Fact]
    public void Invoke_FolderWhoseResultsPathHoldsControlCharacters_PrintedEscapedOnOneLine()
    {
        var results = System.IO.Path.Combine(dir, "results\u001b[2J\n\u2066");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = CliCommands.Root(stdout, stderr, () => Stream.Null)
            .Parse(["detect", "--input", ExampleDataFolder(), "--output", results, "--detector-name", "det\u009Bx\u202E"])
            .Invoke();

        Assert.Equal(0, code);
        Assert.True(Directory.Exists(System.IO.Path.Combine(results, "det\u009Bx\u202E")), stderr.ToString());
        Assert.Equal(System.IO.Path.Combine(dir, "results\\x1B[2J\\x0A\\u2066", "det\\x9Bx\\u202E") + Environment.NewLine, stdout.ToString());
    }

    /// <summary>
    /// The detector's name is a folder under the results root: ".." put the results beside the root (in its parent's
    /// category folders), "." made them hidden files in the root's.
    /// </summary>
    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    public async Task Invoke_DetectorNameThatIsAFolderAlreadyThere_IsAUsageErrorAndNothingIsWritten(string name)
    {
        var data = ExampleDataFolder();
        var results = System.IO.Path.Combine(dir, "out", "results");
        var stderr = new StringWriter();

        var code = await CliInvocation.RunAsync(CliCommands.Root(TextWriter.Null, stderr, () => Stream.Null), ["detect", "--input", data, "--output", results, "--detector-name", name], TextWriter.Null, stderr);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Contains("--detector-name must be a plain file name", stderr.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(System.IO.Path.Combine(dir, "out")));
    }

    [Fact]
    public async Task Invoke_OneFileWithAFolderAsOutput_OneLineNamingTheOptionAndTheFolder()
    {
        var stderr = new StringWriter();

        var code = await CliInvocation.RunAsync(CliCommands.Root(TextWriter.Null, stderr, () => Stream.Null), ["detect", "--input", RepositoryFiles.Path("examples", "nab-detector.csv"), "--output", dir], TextWriter.Null, stderr);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: --output: cannot write '{dir}': it is a folder (a results root is for a folder --input; for one file give the CSV to write).", stderr.ToString().Trim());
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    /// <summary>
    /// A file whose every row is rejected: before, a header-only results file was written and its path printed as a
    /// result, although the command failed (exit 1); a folder's results tree got the same empty file for it.
    /// </summary>
    [Fact]
    public async Task Invoke_EveryRowRejected_WritesNoResultsAndPrintsNoPath()
    {
        var input = System.IO.Path.Combine(dir, "bad.csv");
        File.WriteAllLines(input, ["timestamp,value", "2024-01-01 00:00:00,abc", "2024-01-01 00:05:00,def"]);
        var output = System.IO.Path.Combine(dir, "scored.csv");
        var data = Directory.CreateDirectory(System.IO.Path.Combine(dir, "data", "cat")).FullName;
        File.Copy(input, System.IO.Path.Combine(data, "bad.csv"));
        File.Copy(RepositoryFiles.Path("examples", "nab-detector.csv"), System.IO.Path.Combine(data, "good.csv"));
        var results = System.IO.Path.Combine(dir, "results");
        var (stdout, stderr, folderOut, folderErr) = (new StringWriter(), new StringWriter(), new StringWriter(), new StringWriter());

        var code = await CliInvocation.RunAsync(CliCommands.Root(stdout, stderr, () => Stream.Null), ["detect", "--input", input, "--output", output], stdout, stderr);
        var folderCode = await CliInvocation.RunAsync(CliCommands.Root(folderOut, folderErr, () => Stream.Null), ["detect", "--input", System.IO.Path.Combine(dir, "data"), "--output", results], folderOut, folderErr);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Empty(stdout.ToString());
        Assert.False(File.Exists(output));
        Assert.EndsWith("error: every row of bad.csv was rejected (2); scored.csv not written.", stderr.ToString().Trim(), StringComparison.Ordinal);
        Assert.Equal(CliErrors.InvalidInput, folderCode);
        Assert.Equal([System.IO.Path.Combine(results, "streamseq", "cat", "streamseq_good.csv")], Directory.GetFiles(System.IO.Path.Combine(results, "streamseq"), "*.csv", SearchOption.AllDirectories));
        Assert.Contains("cat/bad.csv not scored", folderErr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_FolderWithHeaderOnlyFile_ScoresItAndSaysItHadNoRows()
    {
        var data = Directory.CreateDirectory(System.IO.Path.Combine(dir, "data", "cat")).FullName;
        File.WriteAllText(System.IO.Path.Combine(data, "header.csv"), "timestamp,value\n");
        File.Copy(RepositoryFiles.Path("examples", "nab-detector.csv"), System.IO.Path.Combine(data, "good.csv"));
        var results = System.IO.Path.Combine(dir, "results");
        var (stdout, stderr) = (new StringWriter(), new StringWriter());

        var code = await CliInvocation.RunAsync(CliCommands.Root(stdout, stderr, () => Stream.Null), ["detect", "--input", System.IO.Path.Combine(dir, "data"), "--output", results], stdout, stderr);

        Assert.Equal(0, code);
        var lines = stderr.ToString().Split('\n');
        Assert.Contains("note: cat/header.csv has no rows after its header; its results file holds only the header.", lines);
        Assert.DoesNotContain(lines, l => l.Contains("good.csv", StringComparison.Ordinal));
        Assert.Single(File.ReadAllLines(System.IO.Path.Combine(results, "streamseq", "cat", "streamseq_header.csv")));
    }

    [Fact]
    public async Task Invoke_FolderWithAnEmptyFile_NamesItOnceInItsError()
    {
        var data = Directory.CreateDirectory(System.IO.Path.Combine(dir, "data", "cat")).FullName;
        File.WriteAllText(System.IO.Path.Combine(data, "empty.csv"), string.Empty);
        File.Copy(RepositoryFiles.Path("examples", "nab-detector.csv"), System.IO.Path.Combine(data, "good.csv"));
        var results = System.IO.Path.Combine(dir, "results");
        var (stdout, stderr) = (new StringWriter(), new StringWriter());

        var code = await CliInvocation.RunAsync(CliCommands.Root(stdout, stderr, () => Stream.Null), ["detect", "--input", System.IO.Path.Combine(dir, "data"), "--output", results], stdout, stderr);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("error: cat/empty.csv:1: file is empty (expected a header 'timestamp,value'). (not scored)", stderr.ToString().Split('\n'));
        Assert.True(File.Exists(System.IO.Path.Combine(results, "streamseq", "cat", "streamseq_good.csv")));
    }

    private string ExampleDataFolder()
    {
        var data = System.IO.Path.Combine(dir, "data", "artificialX");
        Directory.CreateDirectory(data);
        File.Copy(RepositoryFiles.Path("examples", "nab-detector.csv"), System.IO.Path.Combine(data, "example.csv"));
        return System.IO.Path.Combine(dir, "data");
    }
}
