using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>Aborted transactions are redone from the changelog, but never forever.</summary>
public sealed class AbortTests
{
    [Fact]
    public void Run_BrokerRejectsADeadLetterAsTooLarge_OutputLimitHalvedAndTheRedoWritesItInAFormThatFits()
    {
        using var bed = new KafkaTestBed("broker-size-limit");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        var good = TestInput.Generate(streams: 10, perStream: 6, seed: 3);
        var big = Encoding.UTF8.GetBytes("{\"time\":\"2026-01-01T00:10:00Z\",\"values\":[1" + new string(' ', 900_000) + "]");

        // The oversized record is the only input at first, so the worker's first produce request carries its dead
        // letter. The broker's limit is below the producer's: that request fails as a too-large message (the broker
        // fails the next produce request of any client, so the good records are written only once the worker has
        // committed the dead letter: written before, they could make another transaction take the injected error).
        bed.ProduceRaw([(Encoding.UTF8.GetBytes("sensor-0001"), big, 0)]);
        bed.Cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.MsgSizeTooLarge);
        using (var w = bed.StartInProcess(router, "w1"))
        {
            WaitUntil(() => w.Worker.Status.Aborts >= 1 && w.Worker.Status.Commits >= 1 && w.Worker.Status.Lag == 0, "the rejected transaction to be redone and the dead letter committed");
            bed.Produce(good);
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Lag == 0, "every record to be committed");
            Assert.True(w.Worker.Status.Aborts >= 1, "the rejected transaction should have been aborted");
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(good, router));
        var letter = Assert.Single(bed.ReadCommittedMessages(bed.Options.DeadLetterTopic));
        Assert.Equal("unparseable", Encoding.UTF8.GetString(letter.Headers.GetLastBytes(DeadLetterHeaders.Kind)));
        Assert.Equal($"key=11;value={big.Length}", Encoding.UTF8.GetString(letter.Headers.GetLastBytes(DeadLetterHeaders.Truncated)));
        Assert.InRange(letter.Value.Length, 400_000, 500_000);
        Assert.Equal(big.AsSpan(0, letter.Value.Length).ToArray(), letter.Value);
    }

    /// <summary>
    /// On Apache Kafka the group coordinator fences a member that the group has moved on from: the offsets it sends with
    /// its transaction carry its generation (or member epoch), and a stale one is answered with one of these errors.
    /// The transaction must then be aborted and its records redone (here by the same member, which the embedded broker
    /// never really moved on from), neither committed nor taken for a fatal error.
    /// </summary>
    [Theory]
    [InlineData(ErrorCode.IllegalGeneration)]
    [InlineData(ErrorCode.UnknownMemberId)]
    [InlineData(ErrorCode.FencedInstanceId)]
    public void Run_CoordinatorRefusesTheTransactionsOffsetsAsFromAStaleMember_AbortedAndRedoneExactlyOnce(ErrorCode error)
    {
        using var bed = new KafkaTestBed($"stale-offsets-{error}");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 1, horizon: 1);
        var input = TestInput.Generate(streams: 10, perStream: 20, seed: 8);
        bed.Produce(input[..50]);
        bed.Cluster.PushRequestErrors(KafkaApiKey.TxnOffsetCommit, error);

        // The embedded broker delivers aborted records to read_committed readers (docs/kafka-embedded.md): a refused
        // transaction whose records and marker had already left the client would be restored as committed, which
        // Apache Kafka never does. So the records linger in the client until the commit's own wait sends them, after
        // the offsets, and the abort takes them back unsent; what is tested, the worker's answer to the refusal, is
        // the same either way. (Without this, 3 of 6 runs of these cases restored the refused transaction.)
        using (var w = bed.StartInProcess(router, "w1", o =>
        {
            o.CommitGroupOffsets = true;
            o.Client["linger.ms"] = "2000";
        }))
        {
            WaitUntil(() => w.Worker.Status.Aborts >= 1 && w.Worker.Status.Commits >= 1, "the refused transaction to be aborted and redone");
            bed.Produce(input[50..]);
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Lag == 0, "every record to be committed");
            Assert.Null(w.Worker.Status.Fault);
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }

    [Fact]
    public void Run_ProducerFencedAtCommit_LoopStopsWithTheFatalErrorAndCommitsNothing()
    {
        using var bed = new KafkaTestBed("fenced");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        bed.Produce(TestInput.Generate(streams: 10, perStream: 5, seed: 4));

        // A newer instance with the same transactional id took over: the coordinator answers the commit with fencing.
        bed.Cluster.PushRequestErrors(KafkaApiKey.EndTxn, ErrorCode.ProducerFenced);
        var log = new HostileChangelogTests.ListLogger();
        var w = bed.StartInProcess("w1", o => new KafkaStreamWorker(o, router, new ProcessorOptions(), new ProcessingMetrics(), new KafkaTransportMetrics(), log));
        Exception? stopped = null;
        try
        {
            WaitUntil(() => w.Worker.Status.Fault is not null, "the loop to stop on the fatal error");
            Assert.Equal(0, w.Worker.Status.Commits);
            Assert.Equal(0, w.Worker.Status.Aborts);
        }
        finally
        {
            stopped = Record.Exception(w.Dispose);
        }

        var fatal = Assert.IsAssignableFrom<KafkaException>(Assert.IsType<InvalidOperationException>(stopped).InnerException);
        Assert.True(fatal.Error.IsFatal, fatal.Error.Reason);

        // The log says what fencing means and what to check: a second worker sharing the instance id is the usual
        // cause when the default (the host name) is kept on one machine.
        var line = Assert.Single(log.Lines, l => l.StartsWith("Another producer took over", StringComparison.Ordinal));
        Assert.Contains($"transactional id {bed.Options.GroupId}-w1", line, StringComparison.Ordinal);
        Assert.Contains("StreamSeq:Kafka:InstanceId", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_SixTransactionsFailWithoutACommit_FiveAreRedoneThenTheLoopStopsWithTheError()
    {
        using var bed = new KafkaTestBed("aborts-in-a-row");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        var input = TestInput.Generate(streams: 10, perStream: 20, seed: 5);
        bed.Produce(input[..50]);
        long commits;
        using (var first = bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(50, TimeSpan.FromSeconds(90));
            commits = first.Worker.Status.Commits;
        }

        // Every produce request of the restarted worker fails with an error that dooms its transaction (injected once
        // the input is written: the broker fails the next produce requests of any client).
        bed.Produce(input[50..]);
        bed.Cluster.PushRequestErrors(KafkaApiKey.Produce, [.. Enumerable.Repeat(ErrorCode.InvalidRecord, 200)]);
        var w = bed.StartInProcess(router, "w1");
        Exception? fault = null, stopped = null;
        try
        {
            WaitUntil(() => w.Worker.Status.Fault is not null, "the loop to give up");
            fault = w.Worker.Status.Fault;
            Assert.Equal(0, w.Worker.Status.Commits);
            Assert.Equal(5, w.Worker.Status.Aborts);
        }
        finally
        {
            bed.Cluster.ClearRequestErrors(KafkaApiKey.Produce);
            stopped = Record.Exception(w.Dispose);
        }

        Assert.IsAssignableFrom<KafkaException>(fault);
        Assert.Same(fault, Assert.IsType<InvalidOperationException>(stopped).InnerException);
        Assert.Equal(50, bed.CountCommitted(bed.Options.FilteredTopic));
        Assert.True(commits > 0);
    }
}
