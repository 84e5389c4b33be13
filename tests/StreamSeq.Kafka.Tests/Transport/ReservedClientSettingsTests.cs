using StreamSeq.Kafka.Transport;

namespace StreamSeq.Kafka.Tests.Transport;

/// <summary>
/// Pass-through librdkafka settings that would contradict what the worker sets (and were applied after it, so they won
/// silently or failed only once the loop ran) are refused, naming the setting to use instead or why the value is fixed.
/// </summary>
public sealed class ReservedClientSettingsTests
{
    [Theory]
    [InlineData("group.id", "other", "from StreamSeq:Kafka:GroupId")]
    [InlineData("bootstrap.servers", "kafka:9092", "from StreamSeq:Kafka:BootstrapServers")]
    [InlineData("metadata.broker.list", "kafka:9092", "from StreamSeq:Kafka:BootstrapServers")]
    [InlineData("group.protocol", "consumer", "from StreamSeq:Kafka:GroupProtocol")]
    [InlineData("transactional.id", "x", "<StreamSeq:Kafka:GroupId>-<StreamSeq:Kafka:InstanceId>")]
    [InlineData("transaction.timeout.ms", "1000", "from StreamSeq:Kafka:TransactionTimeout")]
    [InlineData("session.timeout.ms", "6000", "from StreamSeq:Kafka:SessionTimeout")]
    [InlineData("consume.result.fields", "none", "leave it out")]
    [InlineData("enable.idempotence", "false", "must be true or left out")]
    [InlineData("acks", "1", "must be all (or -1)")]
    [InlineData("isolation.level", "read_uncommitted", "must be read_committed")]
    [InlineData("enable.auto.commit", "true", "must be false or left out")]
    [InlineData("enable.auto.offset.store", "true", "must be false or left out")]
    [InlineData("partition.assignment.strategy", "range", "must be cooperative-sticky")]
    [InlineData("message.timeout.ms", "60000", "at most StreamSeq:Kafka:TransactionTimeout (10000 ms)")]
    [InlineData("delivery.timeout.ms", "60000", "at most StreamSeq:Kafka:TransactionTimeout (10000 ms)")]
    [InlineData("heartbeat.interval.ms", "10000", "shorter than StreamSeq:Kafka:SessionTimeout (10000 ms)")]
    public void Find_PropertyTheWorkerSets_RefusedWithTheReasonAndTheValue(string key, string value, string expected)
    {
        var problem = Assert.Single(ReservedClientSettings.Find(new Dictionary<string, string> { [key] = value }, new KafkaTransportOptions()));

        Assert.Equal(key, problem.Key);
        Assert.Contains(expected, problem.Value, StringComparison.Ordinal);
        Assert.EndsWith($"got '{value}'.", problem.Value, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("security.protocol", "SASL_SSL")]
    [InlineData("statistics.interval.ms", "0")]
    [InlineData("enable.idempotence", "true")]
    [InlineData("acks", "all")]
    [InlineData("isolation.level", "read_committed")]
    [InlineData("enable.auto.commit", "false")]
    [InlineData("message.timeout.ms", "5000")]
    [InlineData("heartbeat.interval.ms", "1000")]
    [InlineData("auto.offset.reset", "latest")]
    public void Find_TuningOrTheWorkersOwnValue_NoProblem(string key, string value) =>
        Assert.Empty(ReservedClientSettings.Find(new Dictionary<string, string> { [key] = value }, new KafkaTransportOptions()));
}
