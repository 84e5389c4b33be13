using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Records;
using StreamSeq.Testing;

namespace StreamSeq.Processing.Tests.Support;

/// <summary>The bundled examples (one model per family, each with its data file) as test cases.</summary>
internal static class ExampleModels
{
    /// <summary>The names of the examples that have both a model and a data file.</summary>
    public static TheoryData<string> Names() =>
        new(Directory.GetFiles(RepositoryFiles.Path("examples"), "*.csv").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(n => File.Exists(RepositoryFiles.Path("examples", n + ".json"))));

    /// <summary>The example's model with fixed-lag smoothing and forecasts, so every output kind is exercised.</summary>
    public static ModelBinding Binding(string example) =>
        ModelBindingFactory.FromSpec(ModelSpec.Load(RepositoryFiles.Path("examples", example + ".json")), lag: 2, horizon: 2);

    /// <summary>The example's data file as JSON input records (with a <c>stream</c> field), with each row's model time.</summary>
    public static List<Row> Rows(string example, double unitMilliseconds)
    {
        var rows = new List<Row>();
        var path = RepositoryFiles.Path("examples", example + ".csv");
        using var reader = new CsvObservationReader(new StreamReader(path), Path.GetFileName(path));
        while (reader.Read(out var record, out var error) is var status && status != CsvReadStatus.End)
        {
            Assert.True(status == CsvReadStatus.Record, error);
            var values = record.Values.ToArray();
            var text = string.Join(",", values.Select(v => double.IsNaN(v) ? "null" : v.ToString("R", CultureInfo.InvariantCulture)));
            var time = record.Time.Format == TimeFormat.Iso8601 ? $"\"{IsoOf(record.Time)}\"" : record.Time.Value.ToString("R", CultureInfo.InvariantCulture);
            var json = Encoding.UTF8.GetBytes($"{{\"stream\":\"{record.StreamId}\",\"time\":{time},\"values\":[{text}]}}");
            rows.Add(new Row(record.StreamId.ToString(), record.Time.ToModelTime(unitMilliseconds), values, json));
        }

        return rows;
    }

    private static string IsoOf(RecordTime t)
    {
        var buffer = new char[40];
        return new string(buffer, 0, t.FormatIso(buffer));
    }

    /// <summary>One row: its stream, model time, values and encoded record.</summary>
    public sealed record Row(string Stream, double Time, double[] Values, byte[] Json);
}
