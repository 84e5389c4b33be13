using System.Text.Json;
using StreamSeq.Cli.Commands;

namespace StreamSeq.Worker.Tests.Support;

/// <summary><c>streamseq run</c> over the records a test produced, with its outputs grouped like the Kafka topics.</summary>
internal static class CliRun
{
    /// <summary>
    /// Writes the records as JSON Lines (the stream id moves from the Kafka key into a <c>stream</c> field), runs the
    /// command, and returns its output lines per output topic and stream, in order.
    /// </summary>
    public static Dictionary<string, Dictionary<string, List<string>>> Outputs(KafkaTestBed bed, string modelJson, IReadOnlyList<(string Stream, string Value)> input, int lag, int horizon, string directory)
    {
        var model = Path.Combine(directory, "model.json");
        File.WriteAllText(model, modelJson);
        var file = Path.Combine(directory, "input.jsonl");
        File.WriteAllLines(file, input.Select(r => "{\"stream\":\"" + r.Stream + "\"," + r.Value[1..]));
        var output = Path.Combine(directory, "out.jsonl");
        Assert.Equal(0, RunCommand.Execute(model, file, output, lag, horizon, smooth: false, lateness: 0, failFast: true, null, TextWriter.Null, TextWriter.Null));
        var topics = new Dictionary<string, Dictionary<string, List<string>>>();
        foreach (var line in File.ReadLines(output))
        {
            using var doc = JsonDocument.Parse(line);
            var topic = doc.RootElement.GetProperty("type").GetString() switch
            {
                "filtered" => bed.Options.FilteredTopic,
                "smoothed" => bed.Options.SmoothedTopic,
                "forecast" => bed.Options.ForecastTopic,
                _ => bed.Options.AnomalyTopic,
            };
            var stream = doc.RootElement.GetProperty("stream").GetString()!;
            if (!topics.TryGetValue(topic, out var byKey))
            {
                topics[topic] = byKey = [];
            }

            if (!byKey.TryGetValue(stream, out var list))
            {
                byKey[stream] = list = [];
            }

            list.Add(line);
        }

        return topics;
    }
}
