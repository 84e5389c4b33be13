using System.Globalization;
using StreamSeq.Cli.Commands;
using StreamSeq.Cli.Plotting;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Views;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Plotting;

[Collection(SensorsRunCollection.Name)]
public sealed class PlotDataReaderTests(SensorsRun run)
{
    private static List<StreamSeries> Read(string path, bool withModel = true, params string[] streams)
    {
        var projection = withModel ? ObservationProjection.For(ModelBindingFactory.Load(SensorsRun.Model, 0, 0).Estimator) : null;
        return PlotDataReader.ReadOutputs(path, _ => projection, streams);
    }

    private static Dictionary<string, List<(double Time, string Value)>> CsvRows() =>
        File.ReadLines(SensorsRun.Observations).Skip(1).Select(l => l.Split(','))
            .GroupBy(c => c[0])
            .ToDictionary(g => g.Key, g => g.Select(c => (DateTimeOffset.Parse(c[1], CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() + 0.0, c[2])).ToList());

    [Fact]
    public void ReadOutputs_SensorsRun_GroupsEveryRecordKindPerStream()
    {
        var series = Read(run.Output);
        var rows = CsvRows();
        Assert.Equal(rows.Keys.Order(StringComparer.Ordinal), series.Select(s => s.Stream));
        var anomalies = File.ReadLines(run.Output).Where(l => l.Contains("\"type\":\"anomaly\"", StringComparison.Ordinal)).ToList();
        foreach (var s in series)
        {
            var n = rows[s.Stream].Count;
            Assert.Equal("room-temperature", s.Model);
            Assert.True(s.TimeIsDate);
            Assert.True(s.FilteredIsProjected);
            Assert.Equal(5, s.Lag);
            Assert.Equal(n, s.Filtered.Count);
            Assert.Equal(n - 5, s.Smoothed.Count);
            Assert.Equal(2 * n, s.Forecasts.Count);
            Assert.Equal(anomalies.Count(a => a.Contains($"\"stream\":\"{s.Stream}\"", StringComparison.Ordinal)), s.Anomalies.Count);

            // Filtered points sit at the readings' times; the final fan is the last reading's two horizons.
            Assert.Equal(rows[s.Stream].Select(r => r.Time), s.Filtered.Select(p => p.Time));
            var fan = s.LatestForecasts();
            Assert.Equal(2, fan.Count);
            Assert.All(fan, f => Assert.True(f.Time > rows[s.Stream][^1].Time));
            Assert.True(fan[0].Time < fan[1].Time);
        }

        Assert.True(series.Sum(s => s.Anomalies.Count) > 0, "the bundled example contains faults that raise alerts");
    }

    [Fact]
    public void ReadObservations_SensorsCsv_AddsEachStreamsReadingsInTimeOrder()
    {
        var series = Read(run.Output, true, "temperature-0003");
        var (skipped, _) = PlotDataReader.ReadObservations(SensorsRun.Observations, series);
        Assert.Equal(0, skipped);
        var expected = CsvRows()["temperature-0003"];
        var s = Assert.Single(series);
        Assert.Equal(expected.Count, s.Observations.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Time, s.Observations[i].Time);
            if (expected[i].Value.Length == 0)
            {
                Assert.True(double.IsNaN(s.Observations[i].Mean[0]));
            }
            else
            {
                Assert.Equal(double.Parse(expected[i].Value, CultureInfo.InvariantCulture), s.Observations[i].Mean[0]);
            }
        }
    }

    [Fact]
    public void ReadOutputs_WithoutProjection_DrawsTheOneStepPredictionAndNoSmoothedLine()
    {
        var s = Assert.Single(Read(run.Output, false, "temperature-0000"));
        Assert.False(s.FilteredIsProjected);
        Assert.Empty(s.Smoothed);
        Assert.NotEmpty(s.Filtered);
        Assert.All(s.Filtered, p => Assert.True(p.StandardDeviation.Length == 1));
    }

    [Fact]
    public void ReadOutputs_FixedIntervalOnly_DrawsItAsTheSmoothedLine()
    {
        var path = Path.Combine(run.Directory, "smooth.jsonl");
        var code = RunCommand.Execute(RepositoryFiles.Path("examples", "nile.json"), RepositoryFiles.Path("examples", "nile.csv"), path, 0, 0, true, 0, false, null, TextWriter.Null, TextWriter.Null);
        Assert.Equal(0, code);
        var projection = ObservationProjection.For(ModelBindingFactory.Load(RepositoryFiles.Path("examples", "nile.json"), 0, 0).Estimator);
        var s = Assert.Single(PlotDataReader.ReadOutputs(path, _ => projection, []));
        Assert.False(s.TimeIsDate);
        Assert.Equal(-1, s.Lag);
        Assert.Equal(100, s.Smoothed.Count);
        Assert.Equal(Enumerable.Range(1871, 100).Select(y => (double)y), s.Smoothed.Select(p => p.Time));
    }

    [Fact]
    public void ReadOutputs_BrokenLine_FailsNamingFileAndLine()
    {
        var path = Path.Combine(run.Directory, "broken.jsonl");
        File.WriteAllLines(path, [File.ReadLines(run.Output).First(), "{\"type\":\"filtered\",\"stream\":\"x\""]);
        var e = Assert.Throws<FormatException>(() => Read(path));
        Assert.StartsWith("broken.jsonl:2:", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Without --model the chart draws the one-step prediction, whose first records in each stream come from the diffuse
    /// prior: mean 0 (or some number the data have not determined yet) with infinite variance. The line started at 0,
    /// and the axis went down to 0, for readings of 17 to 33 °C.
    /// </summary>
    [Fact]
    public void Line_OneStepPredictionWithoutModel_LeavesOutTheDiffusePriorsPredictions()
    {
        var rows = CsvRows();
        foreach (var s in Read(run.Output, withModel: false))
        {
            Assert.False(s.FilteredIsProjected);
            var readings = rows[s.Stream].Where(r => r.Value.Length > 0).Select(r => double.Parse(r.Value, CultureInfo.InvariantCulture)).ToList();
            var line = StreamPlotter.Line(s.Filtered, 0, t => t);

            Assert.True(line.Xs.Length >= s.Filtered.Count - 10, $"{s.Stream}: {line.Xs.Length} of {s.Filtered.Count} predictions drawn");
            Assert.InRange(line.Mean.Min(), readings.Min() - 10, readings.Max());
            Assert.InRange(line.Mean.Max(), readings.Min(), readings.Max() + 10);
        }
    }

    [Fact]
    public void Line_BandIsMeanPlusMinus1Point96SdAndGapsWhereTheSpreadIsUnknown()
    {
        SeriesPoint[] points =
        [
            new(3, [30], [2]),
            new(1, [10], [1]),
            new(2, [20], [double.NaN]),
            new(4, [double.NaN], [1]),
            new(5, [0], [double.PositiveInfinity]),
        ];
        var line = StreamPlotter.Line(points, 0, t => t * 10);
        Assert.Equal([10.0, 20.0, 30.0], line.Xs);
        Assert.Equal([10.0, 20.0, 30.0], line.Mean);
        Assert.Equal(10 - 1.959963984540054, line.Lower[0], 12);
        Assert.Equal(30 + (2 * 1.959963984540054), line.Upper[2], 12);
        Assert.True(double.IsNaN(line.Lower[1]) && double.IsNaN(line.Upper[1]));
        Assert.Equal([(0, 1), (2, 3)], StreamPlotter.FiniteRuns(line.Lower));
    }

    [Fact]
    public void MarkerValue_MissingReading_FallsBackToTheExpectedValue()
    {
        var a = new AnomalyPoint(1, [double.NaN, 5], [7, 8], "surprise", 10);
        Assert.Equal(7, a.MarkerValue(0));
        Assert.Equal(5, a.MarkerValue(1));
        Assert.True(double.IsNaN(a.MarkerValue(2)));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 2, 1)]
    [InlineData(5, 2, 3)]
    [InlineData(6, 2, 3)]
    public void Grid_Layout_IsTwoChartsWide(int count, int columns, int rows)
    {
        Assert.Equal(columns, PlotRenderer.GridColumns(count));
        Assert.Equal(rows, PlotRenderer.GridRows(count));
    }

    [Fact]
    public void ToOADate_EpochMilliseconds_MatchesDateTime()
    {
        var t = new DateTimeOffset(2026, 1, 1, 6, 30, 0, TimeSpan.Zero);
        Assert.Equal(t.UtcDateTime.ToOADate(), StreamPlotter.ToOADate(t.ToUnixTimeMilliseconds()), 9);
    }
}
