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
        var (code, _) = Plot(folder, width: 640, height: 300);
        Assert.Equal(0, code);
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(SensorStreams.Select(s => $"{s}.png"), files);
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

    [Fact]
    public void Execute_WithoutModel_SaysTheFilteredLineIsTheOneStepPrediction()
    {
        var path = Path.Combine(dir, "nomodel.png");
        var (code, errors) = Plot(path, streams: ["temperature-0000"], model: false);
        Assert.Equal(0, code);
        Assert.Contains("no --model", errors, StringComparison.Ordinal);
        Assert.Equal((1000, 420), PngHeader.Size(path));
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
    [InlineData("plain-id", "plain-id")]
    [InlineData("a/b", "a_b")]
    [InlineData("c:d*e?", "c_d_e_")]
    [InlineData("..", "_")]
    public void FileName_UnsafeCharacters_AreReplaced(string stream, string expected) =>
        Assert.Equal(expected, PlotCommand.FileName(stream));
}
