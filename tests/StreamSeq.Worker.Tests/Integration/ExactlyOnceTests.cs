using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>The worker on the embedded broker: outputs equal an uninterrupted processor run, exactly once.</summary>
public sealed class ExactlyOnceTests
{
    [Fact]
    public void Run_OneWorker_CommittedOutputsEqualAnUninterruptedProcessorRun()
    {
        using var bed = new KafkaTestBed();
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 200, perStream: 40);
        bed.Produce(input);
        using (bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90));
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    [Fact]
    public void Run_TwoWorkersOneLeavesAndRejoins_OutputsEqualASingleWorkerRunAndStateMovesWithPartitions()
    {
        using var bed = new KafkaTestBed();
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 200, perStream: 60);
        var producing = bed.ProduceInBackground(input, perSecond: 1500);
        using var a = bed.StartInProcess(router, "a");
        var b = bed.StartInProcess(router, "b");
        WaitUntil(() => a.Worker.Status.Partitions.Count == 2 && b.Worker.Status.Partitions.Count == 2 && b.Worker.Status.Processed > 0, "the partitions to split two ways");
        var bPartitions = b.Worker.Status.Partitions.ToArray();

        // b leaves gracefully (commits and leaves the group): a takes over b's partitions from the changelog.
        b.Dispose();
        WaitUntil(() => a.Worker.Status.Partitions.Count == 4, "the remaining worker to own all partitions");
        var processedBeforeRejoin = a.Worker.Status.Processed;
        WaitUntil(() => a.Worker.Status.Processed > processedBeforeRejoin + 500, "processing to continue on one worker");

        // b rejoins with the same identity and gets partitions back, restoring their state.
        using var b2 = bed.StartInProcess(router, "b");
        WaitUntil(() => b2.Worker.Status.Partitions.Count == 2 && b2.Worker.Status.Processed > 0, "the partitions to split again");
        producing.Join();
        bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90));
        Assert.NotEmpty(bPartitions);
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    [Fact]
    public void Run_BrokerDownAndRequestErrors_NoLossNoDuplicates()
    {
        using var bed = new KafkaTestBed();
        var router = KafkaTestBed.Router(TestInput.Model, lag: 1, horizon: 0);
        var input = TestInput.Generate(streams: 100, perStream: 100);
        // The input producer lives through the outage too; see Produce's idempotent parameter for why it is not idempotent.
        var producing = bed.ProduceInBackground(input, perSecond: 400, idempotent: false);
        // librdkafka's mock can hang in SendOffsetsToTransaction after a broker restart (and it does not store those
        // offsets anyway); resuming uses the changelog, so this test runs without group-offset commits.
        using (var w = bed.StartInProcess(router, "w1", o => o.CommitGroupOffsets = false))
        {
            WaitUntil(() => w.Worker.Status.Commits > 2, "the first commits");

            // Request errors on the transaction's produce and commit paths, then a broker outage.
            bed.Cluster.PushRequestErrors(StreamSeq.Kafka.Embedded.KafkaApiKey.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.NotEnoughReplicas);
            bed.Cluster.PushRequestErrors(StreamSeq.Kafka.Embedded.KafkaApiKey.EndTxn, ErrorCode.GroupCoordinatorNotAvailable);
            bed.Cluster.PushRequestErrors(StreamSeq.Kafka.Embedded.KafkaApiKey.AddPartitionsToTxn, ErrorCode.ConcurrentTransactions);
            var before = w.Worker.Status.Commits;
            WaitUntil(() => w.Worker.Status.Commits > before + 2, "commits after request errors");
            bed.Cluster.SetBrokerDown(1);
            Thread.Sleep(TimeSpan.FromSeconds(4));
            bed.Cluster.SetBrokerUp(1);
            Assert.True(producing.IsAlive, "input should still be flowing when the broker comes back");
            var joining = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                producing.Join();
            }
            catch (InvalidOperationException e)
            {
                // The test's own producer did not recover from the outage: say where the worker stood as well.
                throw new InvalidOperationException($"{e.Message}. It gave up {joining.Elapsed.TotalSeconds:0.0} s after the broker came back; {Describe(bed, w)}", e);
            }

            var joined = joining.Elapsed;
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(120), () => $"the input producer finished {joined.TotalSeconds:0.0} s after the broker came back; {Describe(bed, w)}");
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    /// <summary>
    /// On the embedded broker an offset marker makes its transaction's records count as soon as it is on the broker, so
    /// it must never get there before the outputs: a worker killed in between would leave a marker for outputs that never
    /// arrive, and its successor would resume after their input (outputs lost). Here the outputs' broker is down while
    /// the changelog's is up, which holds the outputs back for seconds: no marker may appear until they are delivered.
    /// </summary>
    [Fact]
    public void Run_OutputBrokerDown_NoOffsetMarkerBeforeTheOutputsAreOnTheBroker()
    {
        using var bed = new KafkaTestBed(brokers: 2);
        const int outputBroker = 2;
        foreach (var topic in bed.OutputTopics.Append(bed.Options.DeadLetterTopic))
        {
            for (var p = 0; p < KafkaTestBed.OutputPartitions; p++)
            {
                bed.Cluster.SetPartitionLeader(topic, p, outputBroker);
            }
        }

        for (var p = 0; p < KafkaTestBed.InputPartitions; p++)
        {
            bed.Cluster.SetPartitionLeader(bed.Options.InputTopic, p, 1);
            bed.Cluster.SetPartitionLeader(bed.Options.ChangelogTopic, p, 1);
        }

        bed.Cluster.SetTransactionCoordinator($"{bed.Options.GroupId}-w1", 1);
        bed.Cluster.SetGroupCoordinator(bed.Options.GroupId, 1);
        var router = KafkaTestBed.Router(TestInput.Model, lag: 1, horizon: 0);
        var input = TestInput.Generate(streams: 40, perStream: 10);
        bed.Produce(input);
        bed.Cluster.SetBrokerDown(outputBroker);
        using (var w = bed.StartInProcess(router, "w1", o => o.CommitGroupOffsets = false))
        {
            WaitUntil(() => w.Worker.Status.Processed >= input.Count, "the worker to step every record");

            // The worker commits every 500 ms: a marker written before the outputs would be on the changelog well
            // within these seconds (and the transaction timeout, 10 s, is not reached).
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(4))
            {
                var markers = Enumerable.Range(0, KafkaTestBed.InputPartitions)
                    .Sum(p => bed.ReadPartition(bed.Options.ChangelogTopic, p).Count(m => m.Key is { Length: > 0 } k && ChangelogKeys.IsOffsetKey(k)));
                Assert.True(markers == 0, $"{markers} offset markers on the changelog while the outputs' broker is down, {clock.Elapsed.TotalSeconds:0.0} s after every record was stepped");
                Thread.Sleep(200);
            }

            bed.Cluster.SetBrokerUp(outputBroker);
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(60), () => Describe(bed, w));
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    /// <summary>Where a stalled run stands: how much input reached the broker, and what the worker did with it.</summary>
    private static string Describe(KafkaTestBed bed, KafkaTestBed.WorkerHandle w)
    {
        var s = w.Worker.Status;
        return $"input written {bed.HighWatermarkSum(bed.Options.InputTopic, KafkaTestBed.InputPartitions)}; worker: started {s.Started}, joined {s.Joined}, restoring {s.Restoring}, " +
            $"partitions [{string.Join(",", s.Partitions)}], processed {s.Processed}, commits {s.Commits}, aborts {s.Aborts}, lag {s.Lag}, last commit {s.LastCommit:HH:mm:ss.fff}, " +
            $"fault {s.Fault?.Message ?? "none"}, error {w.Error?.Message ?? "none"}";
    }

    [Fact]
    public void Run_BadRecordsOfEveryKind_EndInDeadLetterTopicWithReasonAndSourceAndProcessingGoesOn()
    {
        using var bed = new KafkaTestBed();
        var router = KafkaTestBed.Router(TestInput.Model.Replace("\"level\"", "\"level\",\"seed\":1", StringComparison.Ordinal), lag: 0, horizon: 0);
        var routed = new StreamSeq.Processing.Models.ModelRouter(router.Models.Values, [new StreamSeq.Processing.Models.ModelRoute("level", StreamPattern: "sensor-*")]);
        var good = TestInput.Generate(streams: 10, perStream: 20);
        var bad = new List<(string Stream, string Value, string Reason)>
        {
            ("sensor-0001", "{\"time\":\"2026-01-01T00:00:00Z\",\"values\":[1,", "unparseable"),
            ("sensor-0002", "{\"time\":\"2026-01-01T05:00:00Z\",\"values\":[1,2]}", "wrong-dimension"),
            ("robot-7", "{\"time\":\"2026-01-01T05:00:00Z\",\"values\":[1]}", "unknown-model"),
            ("sensor-0003", "{\"time\":\"2025-12-31T00:00:00Z\",\"values\":[1]}", "too-late"),
            ("sensor-0004", "{\"time\":\"2026-01-01T05:00:00Z\",\"values\":[" + string.Join(",", Enumerable.Repeat("1", 2000)) + "]}", "too-large"),
            ("sensor-0005", "{\"time\":\"tomorrow\",\"values\":[1]}", "unparseable"),
        };
        bed.Produce(good.Take(100).ToList());
        bed.Produce(bad.Select(b => (b.Stream, b.Value)).ToList());
        bed.Produce(good.Skip(100).ToList());
        using (bed.StartInProcess(routed, "w1"))
        {
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(60));
        }

        var letters = bed.ReadMessages(bed.Options.DeadLetterTopic);
        Assert.Equal(bad.Count, letters.Count);
        foreach (var (stream, value, reason) in bad)
        {
            var letter = Assert.Single(letters, l => Encoding.UTF8.GetString(l.Key) == stream && Encoding.UTF8.GetString(l.Value) == value);
            Assert.Equal(reason, Header(letter, DeadLetterHeaders.Kind));
            Assert.Equal(bed.Options.InputTopic, Header(letter, DeadLetterHeaders.SourceTopic));
            Assert.True(long.Parse(Header(letter, DeadLetterHeaders.SourceOffset), System.Globalization.CultureInfo.InvariantCulture) >= 0);
            Assert.False(string.IsNullOrWhiteSpace(Header(letter, DeadLetterHeaders.Message)));
        }

        // The good records were all processed, and their outputs are exactly what a clean run gives.
        var expected = bed.Expected(good, routed);
        Assert.Equal(expected[bed.Options.FilteredTopic].Values.Sum(v => v.Count), bed.CountCommitted(bed.Options.FilteredTopic));
    }

    private static string Header(Message<byte[], byte[]> m, string name) =>
        m.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : throw new KeyNotFoundException(name);

    internal static void WaitUntil(Func<bool> condition, string what, int seconds = 90)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            Thread.Sleep(100);
        }
    }
}
