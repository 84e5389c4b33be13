using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;

namespace StreamSeq.Processing.Tests.Support;

/// <summary>
/// Runs one stream of readings through a processor, as the CLI and the worker do, and compares the records of a stretch
/// with those of the same readings run alone: the restart tests' shared harness.
/// </summary>
internal static class StretchRecords
{
    /// <summary>
    /// Processes <paramref name="rows"/> (times in model units, one value, and a control where given) as stream "s";
    /// with <paramref name="keepHistory"/> the fixed-interval records are emitted at the end. No row may be dead-lettered.
    /// </summary>
    public static ListSink Process(ModelBinding binding, IReadOnlyList<(double Time, double Value, double? Control)> rows, bool keepHistory)
    {
        using var processor = new StreamProcessor(TestModels.Router(binding), new ProcessorOptions { KeepHistory = keepHistory }, numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        for (var i = 0; i < rows.Count; i++)
        {
            var control = rows[i].Control is { } u ? string.Create(CultureInfo.InvariantCulture, $",\"control\":[{u:R}]") : "";
            var json = string.Create(CultureInfo.InvariantCulture, $"{{\"time\":{rows[i].Time:R},\"values\":[{rows[i].Value:R}]{control}}}");
            processor.ProcessEncoded(Encoding.UTF8.GetBytes(json), "s", double.NaN, default, new SourcePosition("in", 0, i), store, sink);
        }

        Assert.Empty(sink.DeadLetters);
        if (keepHistory)
        {
            processor.EmitFixedInterval(store, sink);
        }

        return sink;
    }

    public static double Time(JsonElement record) => record.GetProperty("time").GetDouble();

    public static List<string?> Health(JsonElement record) =>
        record.TryGetProperty("health", out var health) ? [.. health.EnumerateArray().Select(h => h.GetString())] : [];

    /// <summary>
    /// Every number of <paramref name="actual"/> within 1e-9 relative of <paramref name="expected"/>'s, in the same
    /// order (object members by name); <paramref name="reference"/> names where the expected numbers come from.
    /// </summary>
    public static void AssertClose(JsonElement expected, JsonElement actual, string context, string reference)
    {
        var e = Numbers(expected);
        var a = Numbers(actual);
        Assert.Equal(e.Count, a.Count);
        for (var i = 0; i < e.Count; i++)
        {
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-9 * (1 + Math.Abs(e[i])), $"{context}: {a[i]:R} where {reference} gives {e[i]:R}");
        }
    }

    private static List<double> Numbers(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => [element.GetDouble()],
        JsonValueKind.Array => [.. element.EnumerateArray().SelectMany(Numbers)],
        JsonValueKind.Object => [.. element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).SelectMany(p => Numbers(p.Value))],
        _ => [],
    };
}
