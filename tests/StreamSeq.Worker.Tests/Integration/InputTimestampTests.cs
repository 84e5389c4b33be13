using System.Globalization;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>What the input records' Kafka timestamps do to the outputs, whatever kind of timestamp the topic keeps.</summary>
public sealed class InputTimestampTests
{
    [Fact]
    public void Run_InputTopicWithLogAppendTime_EveryRecordProcessedOrDeadLetteredAndTheOutputsCarryTheAppendTime()
    {
        // An input topic with message.timestamp.type=LogAppendTime (a common broker or topic setting) serves each record
        // with a LogAppendTime timestamp. The worker stamped its outputs and dead letters with the input's timestamp as
        // it came, and Confluent.Kafka refuses to produce any timestamp but CreateTime (ArgumentException): the first
        // such record stopped the worker, and every restart stopped at the same record.
        using var bed = new KafkaTestBed("log-append-time");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 1, horizon: 1);
        var good = TestInput.Generate(streams: 6, perStream: 8, seed: 3);
        var appended = good.Where(r => r.Stream == "sensor-0002").ToList();
        var appendTime = new DateTimeOffset(2026, 1, 1, 0, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var poison = Encoding.UTF8.GetBytes("not json");
        bed.Produce([.. good.Where(r => r.Stream != "sensor-0002")]);
        var first = LogAppendTimeProducer.Append(
            bed.Cluster.BootstrapServers,
            bed.Options.InputTopic,
            partition: 1,
            appendTime,
            [.. appended.Select(r => (Encoding.UTF8.GetBytes(r.Stream), Encoding.UTF8.GetBytes(r.Value))), (Encoding.UTF8.GetBytes("sensor-9999"), poison)]);

        var input = bed.ReadPartition(bed.Options.InputTopic, 1).Where(m => m.Timestamp.Type == TimestampType.LogAppendTime).ToList();
        Assert.Equal(appended.Count + 1, input.Count);
        Assert.All(input, m => Assert.Equal(appendTime, m.Timestamp.UnixTimestampMs));

        using (var w = bed.StartInProcess(router, "w1"))
        {
            ExactlyOnceTests.WaitUntil(
                () => w.Worker.Status.Fault is { } fault
                    ? throw new InvalidOperationException("the worker stopped", fault)
                    : w.Worker.Status.Lag == 0 && w.Worker.Status.Processed == good.Count + 1 && w.Worker.Status.DeadLetters == 1,
                "every record to be committed");
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(good, router));
        var filtered = bed.ReadCommittedMessages(bed.Options.FilteredTopic).Where(m => Encoding.UTF8.GetString(m.Key) == "sensor-0002").ToList();
        Assert.Equal(appended.Count, filtered.Count);
        Assert.All(filtered, m => Assert.Equal(new Timestamp(appendTime, TimestampType.CreateTime), m.Timestamp));

        var letter = Assert.Single(bed.ReadCommittedMessages(bed.Options.DeadLetterTopic));
        Assert.Equal("sensor-9999", Encoding.UTF8.GetString(letter.Key));
        Assert.Equal(poison, letter.Value);
        Assert.Equal(appendTime, letter.Timestamp.UnixTimestampMs);
        Assert.True(letter.Headers.TryGetLastBytes(DeadLetterHeaders.SourceOffset, out var offset));
        Assert.Equal((first + appended.Count).ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(offset));
    }
}
