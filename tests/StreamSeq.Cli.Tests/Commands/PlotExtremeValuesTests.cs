using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using StreamSeq.Cli.Commands;
using StreamSeq.Processing.Records;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// Charts of readings far from 1: every tick label stays short enough to read, and readings of opposite signs near
/// the largest double still give a chart. Before, a 1e300 outlier wrote every digit of 1e300 in each label (the
/// labels took the whole chart), and ±1.7e308 ended the command with an error reported as a bug.
/// </summary>
public sealed partial class PlotExtremeValuesTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-plot-extreme-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static TheoryData<string> Series() => ["outlier-1e300", "opposite-extremes", "billions", "nano", "times-1e13"];

    [Theory]
    [MemberData(nameof(Series))]
    public void Plot_ReadingsFarFromOne_ChartWithShortTickLabels(string series)
    {
        var input = Path.Combine(dir, series + ".csv");
        File.WriteAllLines(input, ["stream,time,value", .. Enumerable.Range(1, 60).Select(t => string.Create(CultureInfo.InvariantCulture, $"s,{Time(series, t):R},{Value(series, t):R}"))]);
        var output = Path.Combine(dir, series + ".jsonl");
        var model = RepositoryFiles.Path("examples", "nile.json");
        var (runCode, runErrors) = Invoke("run", "-m", model, "-i", input, "-o", output);
        Assert.True(runCode == 0, runErrors);

        var svg = Path.Combine(dir, series + ".svg");
        var (code, errors) = Invoke("plot", "-i", output, "--observations", input, "-m", model, "-o", svg);
        Assert.True(code == 0, errors);
        var labels = XDocument.Load(svg).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim())
            .Where(t => NumberLike().IsMatch(t)).ToList();
        Assert.True(labels.Count >= 4, $"{labels.Count} numeric tick labels");
        Assert.All(labels, l => Assert.True(l.Length <= 12, $"tick label '{l}' ({l.Length} characters)"));
    }

    [Theory]
    [InlineData(1e300, "1E+300")]
    [InlineData(-2.5e9, "-2.5E+9")]
    [InlineData(3e-7, "3E-7")]
    [InlineData(123456.789012, null)]
    [InlineData(0.0, "0")]
    public void TickLabel_FarFromOneScientificElseScottPlots(double value, string? expected)
    {
        var label = StreamSeq.Cli.Plotting.StreamPlotter.TickLabel(value);
        Assert.Equal(expected ?? ScottPlot.TickGenerators.LabelFormatters.Numeric(value), label);
    }

    [Theory]
    [InlineData(OutputKind.Anomaly, 1, "1 anomaly")]
    [InlineData(OutputKind.Anomaly, 2, "2 anomalies")]
    [InlineData(OutputKind.Forecast, 3, "3 forecasts")]
    [InlineData(OutputKind.Filtered, 1, "1 filtered")]
    [InlineData(OutputKind.Smoothed, 7, "7 smoothed")]
    public void KindCount_RunSummary_NounsAgreeWithTheirCount(OutputKind kind, long count, string expected) =>
        Assert.Equal(expected, RunCommand.KindCount(kind, count));

    private static double Time(string series, int t) => series == "times-1e13" ? t * 1e13 : t;

    private static double Value(string series, int t) => series switch
    {
        "outlier-1e300" => t == 30 ? 1e300 : Math.Sin(t),
        "opposite-extremes" => t == 20 ? 1.7e308 : t == 40 ? -1.7e308 : Math.Sin(t),
        "billions" => 3e9 + (1e6 * Math.Sin(t)),
        "nano" => 1e-9 * Math.Sin(t),
        _ => Math.Sin(t),
    };

    private static (int Code, string Errors) Invoke(params string[] args) => InProcessCli.Invoke(args);

    [GeneratedRegex(@"^[-+0-9.,E]+$")]
    private static partial Regex NumberLike();
}
