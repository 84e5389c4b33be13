using System.Text.Json;
using StreamSeq.Cli.Commands;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary><c>streamseq run</c> over a file and the worker over the same records produce identical output records.</summary>
public sealed class CliEquivalenceTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("streamseq-eq-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void RunCommandAndWorker_SameRecords_ByteIdenticalOutputsPerStream()
    {
        using var bed = new KafkaTestBed();
        var input = TestInput.Generate(streams: 60, perStream: 40, seed: 3);
        var model = Path.Combine(directory, "model.json");
        File.WriteAllText(model, TestInput.Model);
        var file = Path.Combine(directory, "input.jsonl");
        File.WriteAllLines(file, input.Select(r => "{\"stream\":\"" + r.Stream + "\"," + r.Value[1..]));

        var output = Path.Combine(directory, "out.jsonl");
        Assert.Equal(0, RunCommand.Execute(model, file, output, lag: 2, horizon: 1, smooth: false, lateness: 0, failFast: true, null, TextWriter.Null, TextWriter.Null));
        var fromCli = new Dictionary<string, Dictionary<string, List<string>>>();
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
            if (!fromCli.TryGetValue(topic, out var byKey))
            {
                fromCli[topic] = byKey = [];
            }

            if (!byKey.TryGetValue(stream, out var list))
            {
                byKey[stream] = list = [];
            }

            list.Add(line);
        }

        bed.Produce(input);
        using (bed.StartInProcess(KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1), "w1"))
        {
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90));
        }

        Assert.True(fromCli.ContainsKey(bed.Options.AnomalyTopic), "the workload should raise some alerts");
        OutputAssert.ExactlyOnce(bed, fromCli);
    }
}
