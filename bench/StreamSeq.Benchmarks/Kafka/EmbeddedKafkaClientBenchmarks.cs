using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Confluent.Kafka;
using StreamSeq.Kafka;
using StreamSeq.Kafka.Embedded;

namespace StreamSeq.Benchmarks.Kafka;

/// <summary>
/// Client costs on the embedded (mock) broker with the worker's settings: a plain produce loop, a produce loop
/// inside one transaction, and the latency of a small transaction (one record to each of two topics).
/// Loopback mock numbers bound the client side; a real cluster adds replication and disk.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class EmbeddedKafkaClientBenchmarks
{
    private const int RecordsPerLoop = 10_000;

    private readonly byte[] payload = new byte[100];
    private EmbeddedKafkaCluster cluster = null!;
    private IProducer<string, byte[]> idempotent = null!;
    private IProducer<string, byte[]> transactional = null!;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(payload);
        cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("loop", 1);
        cluster.CreateTopic("output", 1);
        cluster.CreateTopic("changelog", 1);

        var idempotentConfig = KafkaClientDefaults.TransactionalProducer(cluster.BootstrapServers, "unused");
        idempotentConfig.TransactionalId = null;
        idempotent = new ProducerBuilder<string, byte[]>(idempotentConfig).Build();
        transactional = new ProducerBuilder<string, byte[]>(
            KafkaClientDefaults.TransactionalProducer(cluster.BootstrapServers, "bench-tx")).Build();
        transactional.InitTransactions(TimeSpan.FromSeconds(30));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        idempotent.Dispose();
        transactional.Dispose();
        cluster.Dispose();
    }

    /// <summary>Produce 10,000 records of 100 bytes and flush (per-record time; idempotent, acks=all, linger 5 ms).</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerLoop)]
    public void ProduceLoop()
    {
        for (var i = 0; i < RecordsPerLoop; i++)
        {
            idempotent.Produce("loop", new Message<string, byte[]> { Key = "sensor", Value = payload });
        }

        idempotent.Flush(TimeSpan.FromSeconds(60));
    }

    /// <summary>The same loop inside one transaction, committed at the end (per-record time).</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerLoop)]
    public void ProduceLoopInOneTransaction()
    {
        transactional.BeginTransaction();
        for (var i = 0; i < RecordsPerLoop; i++)
        {
            transactional.Produce("loop", new Message<string, byte[]> { Key = "sensor", Value = payload });
        }

        transactional.CommitTransaction(TimeSpan.FromSeconds(60));
    }

    /// <summary>Begin, one record to the output and one to the changelog, commit: the per-batch overhead.</summary>
    [Benchmark]
    public void SmallTransactionCommit()
    {
        transactional.BeginTransaction();
        transactional.Produce("output", new Message<string, byte[]> { Key = "sensor", Value = payload });
        transactional.Produce("changelog", new Message<string, byte[]> { Key = "sensor", Value = payload });
        transactional.CommitTransaction(TimeSpan.FromSeconds(60));
    }
}
