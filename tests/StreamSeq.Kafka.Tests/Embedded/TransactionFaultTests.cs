using System.Globalization;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using static StreamSeq.Kafka.Tests.Embedded.EmbeddedKafkaTestKit;

namespace StreamSeq.Kafka.Tests.Embedded;

/// <summary>
/// What a transactional producer with the worker's settings surfaces when brokers fail, so the worker's
/// consume-process-produce loop can map each error to an action: nothing (librdkafka retries), retry the commit,
/// abort and reprocess, or rebuild the producer.
/// </summary>
public sealed class TransactionFaultTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How an injected broker error reaches the application.</summary>
    public enum Outcome
    {
        /// <summary>Retried inside librdkafka; the commit succeeds.</summary>
        Transparent,

        /// <summary><see cref="KafkaTxnRequiresAbortException"/>: abort, then redo the batch in a new transaction.</summary>
        Abortable,

        /// <summary>A fatal error (<see cref="Error.IsFatal"/>): the producer must be disposed and recreated.</summary>
        Fatal,
    }

    [Fact]
    public void CommitTransaction_OnlyBrokerDownForTwoSecondsMidTransaction_CommitsAfterItReturns()
    {
        using var cluster = StartCluster();
        var topic = Unique("out");
        cluster.CreateTopic(topic);
        var errors = new List<Error>();
        using var producer = TransactionalProducer(cluster, Unique("tx"), errors);
        producer.InitTransactions(CallTimeout);
        producer.BeginTransaction();
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "v1" });

        cluster.SetBrokerDown(1);
        using var restore = new Timer(_ => cluster.SetBrokerUp(1), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "v2" });
        producer.CommitTransaction(CallTimeout);

        Assert.Equal(["v1", "v2"], ReadValues(cluster, topic));
        lock (errors)
        {
            Assert.NotEmpty(errors); // the outage is reported through the error handler ...
            Assert.DoesNotContain(errors, e => e.IsFatal); // ... but never as fatal
        }
    }

    [Fact]
    public void CommitTransaction_LeaderDownWithThreeBrokers_CommitsAfterItReturns()
    {
        using var cluster = StartCluster(3);
        var topic = Unique("out");
        cluster.CreateTopic(topic, partitions: 1, replicationFactor: 3);
        cluster.SetPartitionLeader(topic, 0, 1);
        var transactionalId = Unique("tx");
        cluster.SetTransactionCoordinator(transactionalId, 2);
        using var producer = TransactionalProducer(cluster, transactionalId);
        producer.InitTransactions(CallTimeout);
        producer.BeginTransaction();
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "v1" });

        // The mock does not move leadership when a broker goes down, so records wait for the leader to return.
        cluster.SetBrokerDown(1);
        using var restore = new Timer(_ => cluster.SetBrokerUp(1), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        producer.CommitTransaction(CallTimeout);

        Assert.Equal(["v1"], ReadValues(cluster, topic));
    }

    [Fact]
    public void CommitTransaction_BrokerDownPastTheCallTimeout_ThrowsRetriableAndTheSameCommitLaterSucceeds()
    {
        using var cluster = StartCluster();
        var topic = Unique("out");
        cluster.CreateTopic(topic);
        using var producer = TransactionalProducer(cluster, Unique("tx"));
        producer.InitTransactions(CallTimeout);
        producer.BeginTransaction();
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "v1" });
        cluster.SetBrokerDown(1);

        var error = Assert.Throws<KafkaRetriableException>(() => producer.CommitTransaction(TimeSpan.FromSeconds(1)));
        Assert.False(error.Error.IsFatal);
        Assert.Equal(ErrorCode.Local_TimedOut, error.Error.Code);

        cluster.SetBrokerUp(1);
        producer.CommitTransaction(CallTimeout);
        Assert.Equal(["v1"], ReadValues(cluster, topic));
    }

    /// <summary>
    /// Error classes follow Kafka's transactional error semantics (KIP-98, KIP-360, KIP-691) as implemented by
    /// librdkafka: transient coordinator/leader errors are retried internally; a failed record batch or an unknown
    /// producer id requires an abort; fencing, sequence desynchronisation, an invalid transaction state and
    /// authorisation failures of the transactional id are fatal.
    /// </summary>
    [Theory]
    [InlineData(KafkaApiKey.Produce, ErrorCode.NotEnoughReplicas, Outcome.Transparent)]
    [InlineData(KafkaApiKey.Produce, ErrorCode.NotLeaderForPartition, Outcome.Transparent)]
    [InlineData(KafkaApiKey.Produce, ErrorCode.RequestTimedOut, Outcome.Transparent)]
    [InlineData(KafkaApiKey.Produce, ErrorCode.Local_Transport, Outcome.Transparent)]
    [InlineData(KafkaApiKey.InitProducerId, ErrorCode.ConcurrentTransactions, Outcome.Transparent)]
    [InlineData(KafkaApiKey.InitProducerId, ErrorCode.NotCoordinatorForGroup, Outcome.Transparent)]
    [InlineData(KafkaApiKey.AddPartitionsToTxn, ErrorCode.ConcurrentTransactions, Outcome.Transparent)]
    [InlineData(KafkaApiKey.AddPartitionsToTxn, ErrorCode.GroupCoordinatorNotAvailable, Outcome.Transparent)]
    [InlineData(KafkaApiKey.EndTxn, ErrorCode.ConcurrentTransactions, Outcome.Transparent)]
    [InlineData(KafkaApiKey.EndTxn, ErrorCode.NotCoordinatorForGroup, Outcome.Transparent)]
    [InlineData(KafkaApiKey.EndTxn, ErrorCode.Local_Transport, Outcome.Transparent)]
    [InlineData(KafkaApiKey.Produce, ErrorCode.InvalidRecord, Outcome.Abortable)]
    [InlineData(KafkaApiKey.Produce, ErrorCode.MsgSizeTooLarge, Outcome.Abortable)]
    [InlineData(KafkaApiKey.Produce, ErrorCode.UnknownProducerId, Outcome.Abortable)]
    [InlineData(KafkaApiKey.AddPartitionsToTxn, ErrorCode.TopicAuthorizationFailed, Outcome.Abortable)]
    [InlineData(KafkaApiKey.EndTxn, ErrorCode.UnknownProducerId, Outcome.Abortable)]
    [InlineData(KafkaApiKey.Produce, ErrorCode.OutOfOrderSequenceNumber, Outcome.Fatal)]
    [InlineData(KafkaApiKey.Produce, ErrorCode.InvalidProducerEpoch, Outcome.Fatal)]
    [InlineData(KafkaApiKey.AddPartitionsToTxn, ErrorCode.ProducerFenced, Outcome.Fatal)]
    [InlineData(KafkaApiKey.EndTxn, ErrorCode.ProducerFenced, Outcome.Fatal)]
    [InlineData(KafkaApiKey.EndTxn, ErrorCode.InvalidProducerEpoch, Outcome.Fatal)]
    [InlineData(KafkaApiKey.EndTxn, ErrorCode.InvalidTxnState, Outcome.Fatal)]
    [InlineData(KafkaApiKey.InitProducerId, ErrorCode.TransactionalIdAuthorizationFailed, Outcome.Fatal)]
    public void CommitTransaction_InjectedBrokerError_SurfacesAsExpectedAndTheDocumentedRecoveryWorks(
        KafkaApiKey apiKey, ErrorCode error, Outcome expected)
    {
        using var cluster = StartCluster();
        var output = Unique("out");
        var changelog = Unique("changelog");
        cluster.CreateTopic(output);
        cluster.CreateTopic(changelog);
        var transactionalId = Unique("tx");
        var producer = TransactionalProducer(cluster, transactionalId);
        try
        {
            cluster.PushRequestErrors(apiKey, error);
            var outcome = RunBatch(producer, output, changelog, "first", initialize: true);

            Assert.Equal(expected, outcome);
            switch (outcome)
            {
                case Outcome.Abortable:
                    // On the mock a redo after a failed batch can itself fail once more (its sequence numbers are not
                    // reset by librdkafka's epoch bump), so the redo is retried a bounded number of times, as the
                    // worker's loop must.
                    var redo = Outcome.Abortable;
                    for (var attempt = 0; attempt < 3 && redo == Outcome.Abortable; attempt++)
                    {
                        producer.AbortTransaction(CallTimeout);
                        redo = RunBatch(producer, output, changelog, "redo", initialize: false);
                    }

                    Assert.Equal(Outcome.Transparent, redo);
                    break;
                case Outcome.Fatal:
                    producer.Dispose();
                    producer = TransactionalProducer(cluster, transactionalId);
                    Assert.Equal(Outcome.Transparent, RunBatch(producer, output, changelog, "redo", initialize: true));
                    break;
            }

            // The committed batch (the first one, or its redo) ends both topics. Aborted attempts stay visible on
            // the mock (no aborted-transaction filtering), so only the tail is checked.
            var batch = outcome == Outcome.Transparent ? "first" : "redo";
            Assert.Equal(Batch(batch, "out"), ReadValues(cluster, output).TakeLast(3));
            Assert.Equal(Batch(batch, "state"), ReadValues(cluster, changelog).TakeLast(3));
        }
        finally
        {
            producer.Dispose();
        }
    }

    private static List<string> Batch(string name, string kind) =>
        Enumerable.Range(0, 3).Select(i => string.Create(CultureInfo.InvariantCulture, $"{name}-{kind}-{i}")).ToList();

    private static Outcome RunBatch(IProducer<string, string> producer, string output, string changelog, string name, bool initialize)
    {
        try
        {
            if (initialize)
            {
                producer.InitTransactions(CallTimeout);
            }

            producer.BeginTransaction();
            for (var i = 0; i < 3; i++)
            {
                producer.Produce(output, new Message<string, string> { Key = "s", Value = Batch(name, "out")[i] });
                producer.Produce(changelog, new Message<string, string> { Key = "s", Value = Batch(name, "state")[i] });
            }

            producer.CommitTransaction(CallTimeout);
            return Outcome.Transparent;
        }
        catch (KafkaException ex) when (ex.Error.IsFatal)
        {
            return Outcome.Fatal;
        }
        catch (KafkaException ex) when (ex is KafkaTxnRequiresAbortException or ProduceException<string, string>)
        {
            // CommitTransaction throws KafkaTxnRequiresAbortException; Produce itself throws a ProduceException once
            // the transaction is in an abortable state (Error.TxnRequiresAbort is internal in Confluent.Kafka, so
            // the worker treats every non-fatal, non-retriable transactional error as "abort and redo").
            return Outcome.Abortable;
        }
    }
}
