using StreamSeq.Kafka.Transport;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>Worker settings a long restore asks to change.</summary>
public sealed class LongRestoreTests
{
    /// <summary>
    /// max.poll.interval.ms is the setting a long restore asks to change, and librdkafka wants it at least the session
    /// timeout: set under Kafka:Client below 45 s, it also reached the restore consumer (no group, session timeout at its
    /// 45 s default), whose creation failed at the first assignment and stopped the worker.
    /// </summary>
    [Fact]
    public void Run_MaxPollIntervalBelowFortyFiveSeconds_TheWorkerRestoresAndProcesses()
    {
        using var bed = new KafkaTestBed("max-poll");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 10, perStream: 10, seed: 3);
        bed.Produce(input);
        using (var w = bed.StartInProcess(router, "w1", o =>
        {
            o.GroupProtocol = "classic";
            o.Client["max.poll.interval.ms"] = "20000";
        }))
        {
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(30), () => w.Error?.Message ?? "no error");
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }
}
