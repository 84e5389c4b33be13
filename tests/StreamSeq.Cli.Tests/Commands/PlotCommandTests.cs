using StreamSeq.Testing;
using System.Globalization;
using System.Xml.Linq;
using StreamSeq.Cli.Commands;
using StreamSeq.Cli.Tests.Plotting;

namespace StreamSeq.Cli.Tests.Commands;

[Collection(SensorsRunCollection.Name)]
public sealed class PlotCommandTests(SensorsRun run) : IDisposable
{
    private static readonly string[] SensorStreams = [.. Enumerable.Range(0, 6).Select(i => $"temperature-{i:D4}")];

    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-plot-out-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private (int Code, string Errors) Plot(string output, bool grid = false, string[]? streams = null, bool model = true, bool observations = true, int width = 1000, int height = 420, string format = "png")
    {
        var errors = new StringWriter();
        var code = PlotCommand.Execute(
            new PlotRequest
            {
                InputPath = run.Output,
                ObservationsPath = observations ? SensorsRun.Observations : null,
                ModelPath = model ? SensorsRun.Model : null,
                OutputPath = output,
                Streams = streams ?? [],
                Grid = grid,
                Format = format,
                Width = width,
                Height = height,
            },
            TextWriter.Null,
            errors);
        return (code, errors.ToString());
    }

    /// <summary>
    /// A --component the stream does not have was an input error (exit 1) as "--component 3: stream ... has 1
    /// component (0..0)."; it is a bad option value like --width 5: exit 2, naming the option and the valid range,
    /// and no image is written (in a folder, not even those of the streams before).
    /// </summary>
    [Fact]
    public void Invoke_ComponentOutOfRange_IsAUsageErrorNamingTheOptionAndTheRange()
    {
        var png = Path.Combine(dir, "one.png");
        var folder = Path.Combine(dir, "charts");

        var (code, errors) = Invoke("plot", "-i", run.Output, "--stream", SensorStreams[0], "--component", "3", "-o", png);
        var (folderCode, folderErrors) = Invoke("plot", "-i", run.Output, "--component", "1", "-o", folder);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal($"error: --component: must be 0, got 3: stream '{SensorStreams[0]}' has 1 component.", Assert.Single(errors.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal)));
        Assert.False(File.Exists(png));
        Assert.Equal(CliErrors.Usage, folderCode);
        Assert.Equal($"error: --component: must be 0, got 1: stream '{SensorStreams[0]}' has 1 component.", Assert.Single(folderErrors.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal)));
        Assert.False(Directory.Exists(folder));
    }

    /// <summary>
    /// A grid draws a stream with fewer components than --component asks for with its last one: before, silently, and
    /// also when no stream of the grid had the component at all.
    /// </summary>
    [Fact]
    public void Invoke_GridWithAComponentNoStreamHas_IsAUsageErrorAndOneSomeLackIsNoted()
    {
        var png = Path.Combine(dir, "grid.png");
        var imm = Path.Combine(dir, "imm.jsonl");
        var mixed = Path.Combine(dir, "mixed.jsonl");
        var mixedPng = Path.Combine(dir, "mixed.png");
        Assert.Equal(0, Invoke("run", "-m", RepositoryFiles.Path("examples", "imm-manoeuvre.json"), "-i", RepositoryFiles.Path("examples", "imm-manoeuvre.csv"), "-o", imm).Code);
        File.WriteAllLines(mixed, [.. File.ReadLines(run.Output), .. File.ReadLines(imm)]);

        var (code, errors) = Invoke("plot", "-i", run.Output, "--grid", "--component", "1", "-o", png);
        var (mixedCode, mixedErrors) = Invoke("plot", "-i", mixed, "--grid", "--component", "1", "-o", mixedPng);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal($"error: --component: must be 0, got 1: stream '{SensorStreams[0]}' has 1 component.", Assert.Single(errors.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal)));
        Assert.False(File.Exists(png));
        Assert.True(mixedCode == 0, mixedErrors);
        Assert.Contains($"note: --component 1: {SensorStreams.Length} streams of the grid have fewer components and show their last one (first: '{SensorStreams[0]}', 1 component).", mixedErrors.Split('\n'));
        Assert.True(File.Exists(mixedPng));
    }

    private static (int Code, string Errors) Invoke(params string[] args) => InProcessCli.Invoke(args);

    [Fact]
    public void Execute_AllStreamsToOnePng_WritesAGridTwoChartsWide()
    {
        var path = Path.Combine(dir, "sensors.png");
        var (code, errors) = Plot(path);
        Assert.Equal(0, code);
        Assert.Equal((2 * 1000, 3 * 420), PngHeader.Size(path));
        Assert.True(new FileInfo(path).Length > 50_000, "a grid of six charts should not be a near-empty image");
        Assert.Contains("6 streams plotted", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_Folder_WritesOneFilePerStreamOfTheRequestedSize()
    {
        var folder = Path.Combine(dir, "charts");
        var (code, errors) = Plot(folder, width: 640, height: 300);
        Assert.Equal(0, code);
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(SensorStreams.Select(s => $"{s}.png"), files);

        // The summary names the first files and counts the rest (a folder for 200 streams listed 200 paths).
        var first = string.Join(", ", SensorStreams.Take(3).Select(s => Path.Combine(folder, $"{s}.png")));
        Assert.Contains($"{SensorStreams.Length} streams plotted: {first} and {SensorStreams.Length - 3} more in {folder}", errors.Split('\n'));
        foreach (var f in files)
        {
            Assert.Equal((640, 300), PngHeader.Size(Path.Combine(folder, f!)));
        }
    }

    [Fact]
    public void Execute_FolderWithGrid_WritesOneGridFile()
    {
        var folder = Path.Combine(dir, "grid");
        var (code, _) = Plot(folder, grid: true, streams: ["temperature-0001", "temperature-0004"], format: "svg");
        Assert.Equal(0, code);
        var file = Assert.Single(Directory.GetFiles(folder));
        Assert.Equal("grid.svg", Path.GetFileName(file));
    }

    [Fact]
    public void Execute_OneStreamToSvg_WritesAnSvgOfTheRequestedSizeWithItsTitle()
    {
        var path = Path.Combine(dir, "one.svg");
        var (code, _) = Plot(path, streams: ["temperature-0002"], width: 800, height: 360);
        Assert.Equal(0, code);
        var svg = XDocument.Load(path).Root!;
        Assert.Equal("svg", svg.Name.LocalName);
        Assert.Equal(800, double.Parse(svg.Attribute("width")!.Value, CultureInfo.InvariantCulture));
        Assert.Equal(360, double.Parse(svg.Attribute("height")!.Value, CultureInfo.InvariantCulture));

        // Text is drawn (as glyph paths or text): the file is far larger than an empty frame.
        Assert.True(new FileInfo(path).Length > 20_000);
    }

    /// <summary>
    /// Skia's SVG canvas has no dashes: the dashed forecast line made it write "Unsupported path effect in addPaint."
    /// to the process's stderr, without line breaks, once per segment, in the middle of the command's own lines.
    /// </summary>
    [Fact]
    public async Task Plot_SvgWithForecasts_StderrHoldsOnlyTheCommandsOwnLines()
    {
        var path = Path.Combine(dir, "forecasts.svg");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "streamseq.dll"), "plot", "-i", run.Output, "-m", SensorsRun.Model, "--stream", "temperature-0002", "-o", path })
        {
            start.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, process.ExitCode);
        Assert.True(File.Exists(path));
        Assert.Equal([$"1 stream plotted: {path}"], (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Execute_WithoutModel_SaysTheFilteredLineIsTheOneStepPrediction()
    {
        var path = Path.Combine(dir, "nomodel.png");
        var (code, errors) = Plot(path, streams: ["temperature-0000"], model: false);
        Assert.Equal(0, code);
        Assert.Contains("no --model", errors, StringComparison.Ordinal);
        Assert.Equal((1000, 420), PngHeader.Size(path));
    }

    /// <summary>
    /// Without --model, plot said how it would draw the charts (a note) before finding that it could draw none: a
    /// mistyped --input or an --output that is no image printed the note and then the error. A failing plot now says only
    /// what failed.
    /// </summary>
    [Theory]
    [InlineData("missing-input")]
    [InlineData("csv-output")]
    public void Execute_WithoutModel_FailingBeforeDrawing_PrintsOnlyTheError(string mistake)
    {
        var existing = Path.Combine(dir, "scores.csv");
        File.WriteAllText(existing, "a,b\n");
        var errors = new StringWriter();
        var code = CliErrors.Run(errors, null, () => PlotCommand.Execute(
            new PlotRequest
            {
                InputPath = mistake == "missing-input" ? Path.Combine(dir, "sensor.jsonl") : run.Output,
                OutputPath = mistake == "missing-input" ? Path.Combine(dir, "p.png") : existing,
                Streams = [],
                Format = "png",
                Width = 1000,
                Height = 420,
            },
            TextWriter.Null,
            errors));

        Assert.NotEqual(0, code);
        var line = Assert.Single(errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// With a --model other than the one that wrote the output, plot said that the other models' streams are drawn
    /// with their one-step predictive distribution before finding that it could draw none: an --output that is no
    /// image printed the note and then the error. The note now comes only when the charts are drawn.
    /// </summary>
    [Fact]
    public void Execute_WithAnotherModel_FailingBeforeDrawing_PrintsOnlyTheError_AndTheNoteWhenDrawing()
    {
        var otherModel = Path.Combine(dir, "other.json");
        File.WriteAllText(otherModel, File.ReadAllText(SensorsRun.Model).Replace("\"name\": \"room-temperature\"", "\"name\": \"other-model\"", StringComparison.Ordinal));
        var existing = Path.Combine(dir, "scores.csv");
        File.WriteAllText(existing, "a,b\n");
        (int Code, string Errors) PlotWith(string output)
        {
            var errors = new StringWriter();
            var code = CliErrors.Run(errors, null, () => PlotCommand.Execute(
                new PlotRequest
                {
                    InputPath = run.Output,
                    ModelPath = otherModel,
                    OutputPath = output,
                    Streams = [SensorStreams[0]],
                    Format = "png",
                    Width = 1000,
                    Height = 420,
                },
                TextWriter.Null,
                errors));
            return (code, errors.ToString());
        }

        var (failed, failedErrors) = PlotWith(existing);
        var (drawn, drawnErrors) = PlotWith(Path.Combine(dir, "p.png"));

        Assert.NotEqual(0, failed);
        var line = Assert.Single(failedErrors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Equal(0, drawn);
        Assert.Contains("note: streams of models other than 'other-model' are drawn with their one-step predictive distribution.", drawnErrors, StringComparison.Ordinal);
    }

    [Fact]
    public void Invoke_UnknownStream_FailsNamingIt()
    {
        var errors = new StringWriter();
        var code = PlotCommand.Create(TextWriter.Null, errors)
            .Parse(["--input", run.Output, "--output", Path.Combine(dir, "x.png"), "--stream", "nope"])
            .Invoke();
        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("'nope'", errors.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "x.png")));
    }

    [Fact]
    public void Invoke_MissingInput_FailsNamingTheFile()
    {
        var errors = new StringWriter();
        var code = PlotCommand.Create(TextWriter.Null, errors)
            .Parse(["--input", Path.Combine(dir, "missing.jsonl"), "--output", Path.Combine(dir, "x.png")])
            .Invoke();
        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("missing.jsonl", errors.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain-id")]
    [InlineData("temperature-0001")]
    [InlineData("room.3_b")]
    [InlineData("température")]
    [InlineData("датчик-7")]
    public void FileName_SafeId_IsTheIdItself(string stream) =>
        Assert.Equal(stream, PlotCommand.FileName(stream));

    /// <summary>Ids that cannot be a file name as they are, each class of problem once.</summary>
    public static TheoryData<string> UnsafeIds() => new()
    {
        "a/b", // a path separator
        "a\\b",
        "../../etc/passwd", // a path out of the folder
        "..",
        ".",
        "",
        "-rf", // read as an option by the next command
        "--help",
        ".bashrc", // hidden
        "a\u001b]0;x\u0007b", // an escape sequence that retitles the terminal
        "a\nb\rc\td",
        "a\u0085b\u009Bc", // C1
        "a\u007Fb",
        "invoice\u202Egnp.exe", // a right-to-left override: shows as invoiceexe.png
        "a\u2066b\u2069\u200Fc\u061C",
        "a\u2028b",
        "a b", // a space
        "a:b*c?d\"e<f>g|h", // reserved on Windows
        "CON", // device names on Windows, with any extension
        "nul",
        "Com1",
        "lpt9.log",
        "aux.tar.gz",
        "e\u0301", // a combining accent (the decomposed form of é)
        "😀sensor", // outside the Basic Multilingual Plane, not a letter
        "a~b", // the separator of the hash
    };

    [Theory]
    [MemberData(nameof(UnsafeIds))]
    public void FileName_UnsafeId_SafeCharactersOnlyEndingInTheIdsHash(string stream)
    {
        var name = PlotCommand.FileName(stream);
        Assert.Matches(@"^[\p{L}\p{Nd}_][\p{L}\p{Nd}_.\-]*~[0-9a-f]{12}$", name);
        Assert.EndsWith("~" + Hash(stream), name, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"^(?i:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|~|$)", name);
        Assert.Equal(name, PlotCommand.FileName(stream));
    }

    [Theory]
    [InlineData(300, 'x')]
    [InlineData(200, 'é')] // 400 bytes of UTF-8
    [InlineData(100, '日')] // 300 bytes
    public void FileName_LongId_CutUnderTheFileNameLimitWithItsHash(int length, char c)
    {
        var stream = new string(c, length);
        var name = PlotCommand.FileName(stream);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(name + ".png") <= 128, $"{name}: {System.Text.Encoding.UTF8.GetByteCount(name)} bytes");
        Assert.StartsWith(new string(c, 10), name, StringComparison.Ordinal);
        Assert.EndsWith("~" + Hash(stream), name, StringComparison.Ordinal);

        // Ids that differ only after the cut get different names.
        Assert.NotEqual(name, PlotCommand.FileName(stream + c));
    }

    [Fact]
    public void FileName_IdsThatReadTheSameOnceReplaced_GetDifferentNames()
    {
        string[] ids = ["a/b", "a\\b", "a:b", "a b", "a\nb", "a_b", "a~b", "a_b~" + Hash("a/b")];
        var names = ids.Select(PlotCommand.FileName).ToList();
        Assert.Equal(ids.Length, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal("a_b~" + Hash("a/b"), names[0]);
        Assert.Equal("a_b", names[5]);
    }

    /// <summary>
    /// An --observations file that holds none of the plotted streams' readings (another run's input, or a file without
    /// a 'stream' column, whose one stream is named after the file) gave charts without readings and no word why.
    /// </summary>
    [Fact]
    public void Execute_ObservationsOfOtherStreams_NoteSaysNoReadingsOfThePlottedStreams()
    {
        var observations = Path.Combine(dir, "readings.csv");
        File.WriteAllLines(observations, ["time,value", "2026-01-01T00:00:00Z,21.5", "2026-01-01T00:01:00Z,21.6"]);
        var errors = new StringWriter();

        var code = PlotCommand.Execute(
            new PlotRequest { InputPath = run.Output, ObservationsPath = observations, ModelPath = SensorsRun.Model, OutputPath = Path.Combine(dir, "p.png"), Streams = [SensorStreams[0]], Format = "png", Width = 300, Height = 200 },
            TextWriter.Null,
            errors);

        Assert.Equal(0, code);
        Assert.Contains($"note: --observations readings.csv has no readings of the plotted stream '{SensorStreams[0]}', so its chart shows none; a file without a 'stream' column is one stream named after the file.", errors.ToString().Split('\n'));
    }

    [Fact]
    public void Execute_ObservationsOfThePlottedStreams_NoNoteAboutMissingReadings()
    {
        var (code, errors) = Plot(Path.Combine(dir, "grid.png"), grid: true, width: 300, height: 200);

        Assert.Equal(0, code);
        Assert.DoesNotContain("has no readings", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_FolderOfStreamsWithUnsafeIds_OneFileEachInsideTheFolderAndTheRenamedOnesListed()
    {
        string[] ids = ["a/b", "a_b", "../../escape", "-rf\u001b[2J\n\u202Egnp", new string('x', 300), "CON"];
        var input = WithStreamIds(ids);
        var folder = Path.Combine(dir, "unsafe");
        var errors = new StringWriter();
        var code = PlotCommand.Execute(
            new PlotRequest { InputPath = input, ModelPath = SensorsRun.Model, OutputPath = folder, Format = "png", Width = 300, Height = 200 },
            TextWriter.Null,
            errors);

        Assert.Equal(0, code);
        var expected = ids.Select(id => PlotCommand.FileName(id) + ".png").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(new[] { folder, input }.Order(StringComparer.Ordinal), Directory.GetFileSystemEntries(dir).Order(StringComparer.Ordinal));
        foreach (var id in ids.Where(id => id != "a_b"))
        {
            Assert.Contains($"note: stream '{id}' written as {PlotCommand.FileName(id)}.png", errors.ToString(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain("stream 'a_b'", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_FolderOfStreamsWhoseIdsDifferOnlyInCase_NamesThatDifferOnACaseInsensitiveFileSystem()
    {
        string[] ids = ["Sensor-A", "sensor-a", "SENSOR-A", "other"];
        var input = WithStreamIds(ids);
        var folder = Path.Combine(dir, "case");
        var errors = new StringWriter();
        var code = PlotCommand.Execute(
            new PlotRequest { InputPath = input, ModelPath = SensorsRun.Model, OutputPath = folder, Streams = ids, Format = "svg", Width = 300, Height = 200 },
            TextWriter.Null,
            errors);

        Assert.Equal(0, code);
        var names = Directory.GetFiles(folder).Select(Path.GetFileName).ToList();
        Assert.Equal(4, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Contains("other.svg", names);
        Assert.Contains($"Sensor-A~{Hash("Sensor-A")}.svg", names);
        Assert.Contains($"note: stream 'sensor-a' written as sensor-a~{Hash("sensor-a")}.svg", errors.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The first 12 hexadecimal digits of the SHA-256 of the id's UTF-8: the documented suffix.</summary>
    private static string Hash(string stream) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(stream)))[..12];

    /// <summary>The example run's output with its six streams renamed to <paramref name="ids"/> (the first ones).</summary>
    private string WithStreamIds(string[] ids)
    {
        var text = File.ReadAllText(run.Output);
        for (var i = 0; i < ids.Length; i++)
        {
            var from = $"\"stream\":\"{SensorStreams[i]}\"";
            Assert.Contains(from, text, StringComparison.Ordinal);
            text = text.Replace(from, "\"stream\":" + System.Text.Json.JsonSerializer.Serialize(ids[i]), StringComparison.Ordinal);
        }

        var path = Path.Combine(dir, "renamed.jsonl");
        File.WriteAllText(path, text);
        return path;
    }
}
