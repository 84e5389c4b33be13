using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>Readings whose times or values would stop or brick a stream, through the worker over TCP.</summary>
public sealed class EventTimeRulesTests
{
    [Fact]
    public void Run_Year9999FarFutureAndConflictingReadings_AreDeadLetteredAndTheWorkerKeepsRunning()
    {
        using var bed = new KafkaTestBed();
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 3);
        var routed = new ModelRouter(router.Models.Values, [new ModelRoute("level", StreamPattern: "sensor-*")]);
        var good = TestInput.Generate(streams: 10, perStream: 20);
        var lastOfSensor3 = good[(9 * 10) + 3];
        Assert.Equal("sensor-0003", lastOfSensor3.Stream);
        var sameTime = lastOfSensor3.Value[..lastOfSensor3.Value.IndexOf("\"values\"", StringComparison.Ordinal)];
        var poison = new List<(string Stream, string Value, string Reason)>
        {
            ("sensor-0001", """{"time":"9999-12-31T23:59:59Z","values":[21]}""", "time-out-of-range"),
            ("sensor-0002", """{"time":253402300799000,"values":[21]}""", "time-out-of-range"),
            ("sensor-0004", """{"time":4102444800000,"values":[21]}""", "too-far-ahead"),
            ("sensor-0005", """{"time":"2100-01-01T00:00:00Z","values":[21]}""", "too-far-ahead"),
            ("sensor-0003", sameTime + "\"values\":[999]}", "conflicting-duplicate"),
        };
        bed.Produce(good.Take(100).ToList());
        bed.Produce([.. poison.Select(p => (p.Stream, p.Value)), lastOfSensor3]);
        bed.Produce(good.Skip(100).ToList());
        using (var worker = bed.StartInProcess(routed, "w1", processing: new ProcessorOptions { MaxTimeSkew = TimeSpan.FromHours(1) }))
        {
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(90));
            ExactlyOnceTests.WaitUntil(() => worker.Worker.Status.Duplicates == 1, "the exact repeat counted as a duplicate");
            Assert.Null(worker.Error);
        }

        var letters = bed.ReadMessages(bed.Options.DeadLetterTopic);
        Assert.Equal(poison.Count, letters.Count);
        foreach (var (stream, value, reason) in poison)
        {
            var letter = Assert.Single(letters, l => Encoding.UTF8.GetString(l.Key) == stream && Encoding.UTF8.GetString(l.Value) == value);
            Assert.True(letter.Headers.TryGetLastBytes(DeadLetterHeaders.Kind, out var kind));
            Assert.Equal(reason, Encoding.UTF8.GetString(kind));
        }

        // Every good reading after the poison was processed as in a clean run: no stream was stopped or bricked.
        var expected = bed.Expected(good, routed);
        Assert.Equal(expected[bed.Options.FilteredTopic].Values.Sum(v => v.Count), bed.CountCommitted(bed.Options.FilteredTopic));
        var committed = bed.ReadCommitted(bed.Options.FilteredTopic);
        Assert.Equal(
            expected[bed.Options.FilteredTopic].Values.SelectMany(v => v).Order(StringComparer.Ordinal),
            committed.Values.SelectMany(v => v).Order(StringComparer.Ordinal));
    }
}
