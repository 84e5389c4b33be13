using Confluent.Kafka;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>Input written by a transactional producer (another exactly-once pipeline, such as a StreamSeq worker).</summary>
public sealed class TransactionalInputTests
{
    [Fact]
    public void Run_InputFromATransactionalProducer_LagReachesZeroOnceEveryRecordIsCommitted()
    {
        // Each committed transaction leaves a marker in every input partition it wrote, at the partition's end: an offset
        // the consumer never delivers. The lag counted it (high watermark minus the next offset to process), so once the
        // input went quiet it stayed at one per partition: /api/status and the lag metric never showed the worker caught
        // up, and /health/live turned unhealthy after StallTimeout (input waiting, no commit), so the orchestrator
        // restarted a healthy, idle worker every StallTimeout, and the restarted one the same way.
        using var bed = new KafkaTestBed("transactional-input");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 1, horizon: 1);
        var good = TestInput.Generate(streams: 12, perStream: 10, seed: 12);
        ProduceInTransactions(bed, good, transactions: 3);
        var records = Enumerable.Range(0, KafkaTestBed.InputPartitions).Select(p => bed.ReadPartition(bed.Options.InputTopic, p).Count).ToArray();
        var ends = bed.HighWatermarks(bed.Options.InputTopic, KafkaTestBed.InputPartitions);
        Assert.All(Enumerable.Range(0, KafkaTestBed.InputPartitions), p => Assert.True(ends[p] > records[p], $"partition {p}: the transaction markers take offsets ({records[p]} records, end {ends[p]})"));

        using (var w = bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Processed == good.Count && w.Worker.Status.Lag == 0, "the lag to reach 0 once every record is committed");
        }

        // The lag of a restarted worker, which resumes at the offset after the last record it processed, too.
        using (var w = bed.StartInProcess(router, "w1"))
        {
            WaitUntil(() => w.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions && w.Worker.Status.Lag == 0, "the restarted worker's lag to reach 0");
            Assert.Equal(0, w.Worker.Status.Processed);
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(good, router));
    }

    /// <summary>Produces the records keyed by stream in <paramref name="transactions"/> committed transactions of one producer.</summary>
    private static void ProduceInTransactions(KafkaTestBed bed, IReadOnlyList<(string Stream, string Value)> records, int transactions)
    {
        var config = new ProducerConfig { BootstrapServers = bed.Cluster.BootstrapServers, TransactionalId = "upstream-pipeline", LingerMs = 5 };
        using var producer = new ProducerBuilder<string, string>(config).SetLogHandler((_, _) => { }).Build();
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        var size = (records.Count + transactions - 1) / transactions;
        foreach (var chunk in records.Chunk(size))
        {
            producer.BeginTransaction();
            foreach (var (stream, value) in chunk)
            {
                producer.Produce(bed.Options.InputTopic, new Message<string, string> { Key = stream, Value = value });
            }

            producer.CommitTransaction(TimeSpan.FromSeconds(30));
        }
    }
}
