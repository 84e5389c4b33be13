using StreamSeq.Testing;
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
    public static TheoryData<string> Examples() => ExampleModels.Names();

    [Theory]
    [MemberData(nameof(Examples))]
    public void Restore_HalfWayThroughExample_ContinuesByteIdentically(string example)
    {
        var binding = ExampleModels.Binding(example);
        var router = new ModelRouter([binding]);
        var rows = ExampleModels.Rows(example, binding.UnitMilliseconds);
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

                processor.ProcessEncoded(rows[i].Json, default, double.NaN, default, new SourcePosition(example, -1, i), store, sink);
            }

            processor.Dispose();
            Assert.Empty(sink.DeadLetters);
            return [.. sink.Records.Select(r => r.Json)];
        }

        var uninterrupted = Run(false);
        Assert.NotEmpty(uninterrupted);
        Assert.Equal(uninterrupted, Run(true));
    }
}
