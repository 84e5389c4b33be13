using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Testing;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary><c>/api/streams/{id}</c> on a worker process against the embedded broker.</summary>
public sealed class WorkerApiTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly Scratch scratch = new("streamseq-api-");

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void Streams_InfiniteVarianceAndSlashesInTheId_AnswersWithTheEncodingOfOutputRecords()
    {
        using var bed = new KafkaTestBed("api");
        string[] ids = ["site/a/temp-1", "temperature-0001", "capteur-température"];
        const int Readings = 12;
        var input = new List<(string Stream, string Value)>();
        for (var t = 0; t < Readings; t++)
        {
            foreach (var id in ids)
            {
                var time = TestInput.Start.AddMinutes(t).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                input.Add((id, $"{{\"time\":\"{time}\",\"values\":[{(21 + (0.1 * t)).ToString("R", CultureInfo.InvariantCulture)}]}}"));
            }
        }

        bed.Produce(input);

        // The bundled room-temperature model: its daily cycle starts from an exact diffuse prior, so after a dozen
        // readings part of the state still has infinite variance.
        var settings = bed.WorkerSettings("api-1", model: File.ReadAllText(RepositoryFiles.Path("examples", "sensors.json")));
        settings["Processing"] = new JsonObject { ["Horizon"] = 1 };
        using var worker = WorkerProcess.Start(settings, scratch.File("api"));
        Assert.True(worker.WaitReady(Patience), worker.Logs());
        bed.WaitForFiltered(input.Count, Patience, worker.Logs);

        var filtered = bed.ReadCommitted(bed.Options.FilteredTopic);
        var forecasts = bed.ReadCommitted(bed.Options.ForecastTopic);
        foreach (var id in ids)
        {
            var (status, body) = worker.Get($"/api/streams/{Uri.EscapeDataString(id)}");
            Assert.True(status == 200, $"/api/streams/{Uri.EscapeDataString(id)} answered {status}: {body}");
            var snapshot = JsonNode.Parse(body)!;
            Assert.Equal(id, snapshot["stream"]!.GetValue<string>());
            Assert.Contains($"\"stream\":\"{id}\"", body, StringComparison.Ordinal); // text as itself, as in output records
            Assert.Equal(Readings, snapshot["steps"]!.GetValue<long>());

            // The stream's state is the one its last committed filtered record carries, in the same encoding.
            var state = JsonNode.Parse(filtered[id][^1])!["state"]!;
            var expectedCovariance = state["cov"]!.AsArray().SelectMany(row => row!.AsArray()).Select(v => v!.ToJsonString()).ToList();
            Assert.Contains("\"Infinity\"", expectedCovariance);
            Assert.Equal(expectedCovariance, snapshot["covariance"]!.AsArray().Select(v => v!.ToJsonString()));
            Assert.Equal(state["mean"]!.AsArray().Select(v => v!.ToJsonString()), snapshot["mean"]!.AsArray().Select(v => v!.ToJsonString()));

            // What the stream expects to read next, in the readings' units: the horizon-1 forecast record it emitted
            // after its last reading (one forecastStep, 15 minutes, on), its time and observation moments written alike.
            var forecast = JsonNode.Parse(forecasts[id][^1])!;
            Assert.Equal(1, forecast["horizon"]!.GetValue<int>());
            var next = snapshot["next"]!.AsObject();
            Assert.Equal(["time", "mean", "cov"], next.Select(p => p.Key));
            Assert.Equal(TestInput.Start.AddMinutes(Readings - 1 + 15).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), next["time"]!.GetValue<string>());
            Assert.Equal(forecast["time"]!.ToJsonString(), next["time"]!.ToJsonString());
            Assert.Equal(forecast["observation"]!["mean"]!.ToJsonString(), next["mean"]!.ToJsonString());
            Assert.Equal(forecast["observation"]!["cov"]!.ToJsonString(), next["cov"]!.ToJsonString());
        }

        // An unencoded slash is part of the id too; an unknown id is a 404 that names the id as decoded.
        Assert.Equal("site/a/temp-1", JsonNode.Parse(worker.Get("/api/streams/site/a/temp-1").Body)!["stream"]!.GetValue<string>());
        var missing = worker.Get("/api/streams/nope%2Fx%20y");
        Assert.Equal(404, missing.Status);
        Assert.Contains("'nope/x y'", JsonDocument.Parse(missing.Body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
