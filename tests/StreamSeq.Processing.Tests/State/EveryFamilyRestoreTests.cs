using System.Text;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.State;

/// <summary>
/// For every bundled example model (one per family): serialise every stream's state half-way through the file with
/// the changelog codec, restore it into a fresh processor and continue; the records equal an uninterrupted run.
/// </summary>
public sealed class EveryFamilyRestoreTests
{
    public static TheoryData<string> Examples() =>
        new(Directory.GetFiles(RepositoryFiles.Path("examples"), "*.csv").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(n => File.Exists(RepositoryFiles.Path("examples", n + ".json"))));

    [Theory]
    [MemberData(nameof(Examples))]
    public void Restore_HalfWayThroughExample_ContinuesByteIdentically(string example)
    {
        var binding = ModelBindingFactory.FromSpec(ModelSpec.Load(RepositoryFiles.Path("examples", example + ".json")), lag: 2, horizon: 2);
        var router = new ModelRouter([binding]);
        var rows = ReadRows(RepositoryFiles.Path("examples", example + ".csv"));
        var half = rows.Count / 2;

        List<string> Run(bool restoreHalfWay)
        {
            var sink = new ListSink();
            var store = new StateStore();
            var processor = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
            for (var i = 0; i < rows.Count; i++)
            {
                if (restoreHalfWay && i == half)
                {
                    var changelog = store.Streams.ToDictionary(s => s.StreamId, StreamStateCodec.ToBytes);
                    processor.Dispose();
                    processor = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
                    store = new StateStore();
                    foreach (var (id, bytes) in changelog)
                    {
                        Assert.True(processor.Restore(store, id, bytes, out var reason), reason);
                    }
                }

                processor.ProcessEncoded(rows[i], default, double.NaN, default, new SourcePosition(example, -1, i), store, sink);
            }

            processor.Dispose();
            Assert.Empty(sink.DeadLetters);
            return [.. sink.Records.Select(r => r.Json)];
        }

        var uninterrupted = Run(false);
        Assert.NotEmpty(uninterrupted);
        Assert.Equal(uninterrupted, Run(true));
    }

    private static List<byte[]> ReadRows(string csvPath)
    {
        var rows = new List<byte[]>();
        using var reader = new CsvObservationReader(new StreamReader(csvPath), Path.GetFileName(csvPath));
        while (reader.Read(out var record, out var error) is var status && status != CsvReadStatus.End)
        {
            Assert.Equal(CsvReadStatus.Record, status);
            var values = string.Join(",", record.Values.ToArray().Select(v => double.IsNaN(v) ? "null" : v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
            var time = record.Time.Format == TimeFormat.Iso8601 ? $"\"{IsoOf(record.Time)}\"" : record.Time.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            rows.Add(Encoding.UTF8.GetBytes($"{{\"stream\":\"{record.StreamId}\",\"time\":{time},\"values\":[{values}]}}"));
            _ = error;
        }

        return rows;
    }

    private static string IsoOf(RecordTime t)
    {
        var buffer = new char[40];
        return new string(buffer, 0, t.FormatIso(buffer));
    }
}
