using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Views;

/// <summary>Runs the processor over small synthetic series to get real output records for the view tests.</summary>
internal static class ViewRuns
{
    /// <summary>Three states, two observed components with an offset and correlated noise, proper prior.</summary>
    public const string Linear3x2 = """
        {"name":"lin","kind":"linear-gaussian",
         "transition":[[1,1,0],[0,1,0],[0,0,0.9]],"transitionNoise":[[0.1,0,0],[0,0.01,0],[0,0,0.5]],
         "observation":[[1,0,1],[0,1,0.5]],"observationOffset":[2,-1],
         "observationNoise":[[1,0.3],[0.3,2]],"initialMean":[0,0,0],"initialCovariance":[[10,0,0],[0,10,0],[0,0,10]]}
        """;

    public static ModelBinding Binding(string spec, int lag = 0, int horizon = 0) =>
        ModelBindingFactory.FromSpec(ModelSpec.Parse(spec), lag, horizon);

    /// <summary>Feeds <paramref name="rows"/> (numeric times, model units) for one stream and returns the records.</summary>
    public static ListSink Run(ModelBinding binding, IEnumerable<(double Time, double[] Values)> rows, string stream = "s")
    {
        var sink = new ListSink();
        using var processor = new StreamProcessor(new ModelRouter([binding]), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var line = 0;
        foreach (var (time, values) in rows)
        {
            var json = string.Create(CultureInfo.InvariantCulture, $"{{\"stream\":\"{stream}\",\"time\":{time},\"values\":[{string.Join(",", values.Select(v => double.IsNaN(v) ? "null" : v.ToString("R", CultureInfo.InvariantCulture)))}]}}");
            processor.ProcessEncoded(Encoding.UTF8.GetBytes(json), default, double.NaN, default, SourcePosition.FileLine("test", ++line), store, sink);
        }

        return sink;
    }

    /// <summary>Feeds input records given as JSON lines (with a <c>stream</c> field).</summary>
    public static ListSink RunJson(ModelBinding binding, IEnumerable<string> lines)
    {
        var sink = new ListSink();
        using var processor = new StreamProcessor(new ModelRouter([binding]), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var line = 0;
        foreach (var json in lines)
        {
            processor.ProcessEncoded(Encoding.UTF8.GetBytes(json), default, double.NaN, default, SourcePosition.FileLine("test", ++line), store, sink);
        }

        return sink;
    }

    /// <summary>The first <paramref name="count"/> readings of one stream of examples/sensors.csv as input records.</summary>
    public static IEnumerable<string> SensorRows(string stream, int count) =>
        File.ReadLines(RepositoryExamples.Path("sensors.csv"))
            .Skip(1)
            .Select(l => l.Split(','))
            .Where(c => c[0] == stream)
            .Take(count)
            .Select(c => $"{{\"stream\":\"{c[0]}\",\"time\":\"{c[1]}\",\"values\":[{(c[2].Length == 0 ? "null" : c[2])}]}}");

    /// <summary>A noisy two-component series with a trend.</summary>
    public static IEnumerable<(double Time, double[] Values)> TwoComponentSeries(int count, int seed = 7)
    {
        var random = new Random(seed);
        for (var t = 1; t <= count; t++)
        {
            yield return (t, [2 + (0.3 * t) + Normal(random), -1 + (0.05 * t) + (2 * Normal(random))]);
        }
    }

    public static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
