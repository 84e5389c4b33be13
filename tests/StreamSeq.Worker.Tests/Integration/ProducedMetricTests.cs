using System.Diagnostics.Metrics;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// <c>streamseq.kafka.produced</c> after a run: per topic, exactly the records the worker left on it (outputs of every
/// kind, dead letters, the changelog).
/// </summary>
public sealed class ProducedMetricTests
{
    [Fact]
    public void Run_OneWorker_ProducedPerTopicEqualsTheRecordsOnThatTopic()
    {
        using var bed = new KafkaTestBed();
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 20, perStream: 30);
        bed.Produce(input);
        bed.Produce([("sensor-0001", "{\"time\":\"2026-01-01T00:00:00Z\",\"values\":[1,"), ("sensor-0002", "not json")]);

        var metrics = new KafkaTransportMetrics();
        var produced = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name == "streamseq.kafka.produced")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var topic = (string)tags[0].Value!;
            lock (produced)
            {
                produced[topic] = produced.GetValueOrDefault(topic) + value;
            }
        });
        listener.Start();

        using (bed.StartInProcess("w1", options => new KafkaStreamWorker(options, router, new ProcessorOptions(), new ProcessingMetrics(), metrics, TestLog.For<KafkaStreamWorker>(options.InstanceId))))
        {
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90));
        }

        var onTopics = bed.OutputTopics.Append(bed.Options.DeadLetterTopic).ToDictionary(t => t, t => (long)bed.ReadMessages(t).Count);
        var changelog = (long)bed.ReadMessages(bed.Options.ChangelogTopic, KafkaTestBed.InputPartitions).Count;
        Dictionary<string, long> seen;
        lock (produced)
        {
            seen = new Dictionary<string, long>(produced);
        }

        // Outputs and dead letters together first: the count that once lost the changelog's share.
        Assert.Equal(onTopics.Values.Sum(), seen.Where(p => p.Key != bed.Options.ChangelogTopic).Sum(p => p.Value));
        Assert.Equal(changelog, seen.GetValueOrDefault(bed.Options.ChangelogTopic));
        foreach (var (topic, count) in onTopics)
        {
            Assert.True(seen.TryGetValue(topic, out var value), $"no produced count for {topic}: {string.Join(", ", seen)}");
            Assert.Equal(count, value);
        }

        Assert.Equal(2, onTopics[bed.Options.DeadLetterTopic]);
        Assert.True(onTopics[bed.Options.SmoothedTopic] > 0 && onTopics[bed.Options.ForecastTopic] > 0, string.Join(", ", onTopics));
    }
}
