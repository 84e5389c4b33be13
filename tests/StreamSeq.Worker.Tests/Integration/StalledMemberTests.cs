using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// A member whose loop stalls with a transaction open loses its partitions to the group, and the partitions' next owner
/// restores them without that transaction and processes its records again. When the stalled loop goes on, it must not
/// commit the transaction: the embedded broker fences nothing (docs/kafka-embedded.md), and neither does Apache Kafka
/// without the group metadata sent with the offsets (<c>CommitGroupOffsets=false</c>), so its outputs would count next
/// to the new owner's.
/// </summary>
public sealed class StalledMemberTests
{
    [Fact]
    public void Run_LoopStalledPastMaxPollIntervalWithATransactionOpen_DoesNotCommitItOnceItsPartitionsMoved()
    {
        using var bed = new KafkaTestBed("stalled");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 40, perStream: 30, seed: 5);
        var third = input.Count / 3;
        var before = input.Take(third).ToList();
        var during = input.Skip(third).Take(third).ToList();
        var later = input.Skip(2 * third).ToList();

        // Worker a stalls inside the first record it processes once armed: it has produced that record's outputs, its
        // transaction is open, and its loop stops polling. librdkafka then leaves the group for it after
        // max.poll.interval.ms, and b takes its partitions over.
        using var release = new ManualResetEventSlim();
        using var holding = new ManualResetEventSlim();
        var armed = 0;
        void Stall()
        {
            if (Interlocked.Exchange(ref armed, 0) == 1)
            {
                holding.Set();
                release.Wait(TimeSpan.FromSeconds(120));
            }
        }

        // The classic protocol: with the consumer group protocol librdkafka takes no client session timeout, and wants
        // max.poll.interval.ms at least its default of 45 s.
        void Classic(KafkaTransportOptions o)
        {
            o.GroupProtocol = "classic";
            o.SessionTimeout = TimeSpan.FromSeconds(2);
            o.CommitGroupOffsets = false;
        }

        using var a = bed.StartInProcess("a", o =>
        {
            Classic(o);
            o.Client["max.poll.interval.ms"] = "2000";
            o.Client["session.timeout.ms"] = "2000";
            return new KafkaStreamWorker(o, router, new ProcessorOptions(), new ProcessingMetrics(), new KafkaTransportMetrics(), TestLog.For<KafkaStreamWorker>("a"), inputTap: (_, _, _, _) => Stall());
        });
        WaitUntil(() => a.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions, "worker a to own every partition");
        bed.Produce(before);
        bed.WaitForFiltered(before.Count, TimeSpan.FromSeconds(60));
        WaitUntil(() => a.Worker.Status.Lag == 0, "worker a to commit the first half");
        var commits = a.Worker.Status.Commits;
        var aborts = a.Worker.Status.Aborts;

        using var b = bed.StartInProcess(router, "b", Classic);
        WaitUntil(() => b.Worker.Status.Partitions.Count > 0 && a.Worker.Status.Partitions.Count > 0, "the partitions to split between a and b");
        Volatile.Write(ref armed, 1);
        bed.Produce(during);
        Assert.True(holding.Wait(TimeSpan.FromSeconds(60)), "worker a should stall in a record of the second third");

        // b owns every partition once a left the group, restores a's without a's open transaction, and commits every
        // record of the second third, the one a stalls in included.
        WaitUntil(() => b.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions, "worker b to take over a's partitions", seconds: 60);
        bed.WaitForFiltered(before.Count + during.Count, TimeSpan.FromSeconds(60));
        release.Set();

        // a goes on: its transaction is due, and it must end in an abort, not a commit.
        WaitUntil(() => a.Worker.Status.Commits > commits || a.Worker.Status.Aborts > aborts, "worker a to end the stalled transaction");
        var committedStalled = a.Worker.Status.Commits > commits;

        // a rejoins and gets partitions back; it commits its share of the last third (the loss is over for it).
        // (The abort rewinds what a still holds, the lost partitions included, until the loss reaches its loop.)
        WaitUntil(
            () => a.Worker.Status.Partitions.Count > 0 && b.Worker.Status.Partitions.Count > 0 && a.Worker.Status.Partitions.Count + b.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions && !a.Worker.Status.Partitions.Intersect(b.Worker.Status.Partitions).Any(),
            "the partitions to split again",
            seconds: 60);
        var rejoined = a.Worker.Status.Commits;
        bed.Produce(later);
        bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(60));
        WaitUntil(() => b.Worker.Status.Lag == 0 && a.Worker.Status.Lag == 0, "both workers to catch up", seconds: 60);
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
        Assert.False(committedStalled, "worker a committed the transaction it had open when its partitions moved");
        Assert.True(a.Worker.Status.Commits > rejoined, "worker a should commit again once it owns partitions again");
    }
}
