namespace StreamSeq.Kafka.Tests;

/// <summary>The form of a broker list, checked before librdkafka takes one it can only ever fail to reach.</summary>
public sealed class KafkaBootstrapServersTests
{
    [Theory]
    [InlineData("")]
    [InlineData("kafka")]
    [InlineData("kafka:9092")]
    [InlineData("kafka-0.kafka:9092,kafka-1.kafka:9092")]
    [InlineData("kafka-0:9092, kafka-1:9092,")]
    [InlineData("127.0.0.1:9")]
    [InlineData("[::1]:9092")]
    [InlineData("SASL_SSL://kafka:9093,ssl://kafka2:9093")]
    public void Problem_ListLibrdkafkaCanUse_IsNull(string list) => Assert.Null(KafkaBootstrapServers.Problem(list));

    [Theory]
    [InlineData(",,,", "names no broker")]
    [InlineData("kafka:notaport", "has the port 'notaport', which is not a number from 1 to 65535")]
    [InlineData("kafka:99999", "has the port '99999', which is not a number from 1 to 65535")]
    [InlineData("kafka:0", "has the port '0'")]
    [InlineData("kafka:", "has the port ''")]
    [InlineData("http://kafka:9092", "starts with 'http://', which is not a Kafka listener protocol")]
    [InlineData("kafka:9092;kafka2:9092", "separate brokers with ','")]
    [InlineData("kafka:9092 kafka2:9092", "separate brokers with ','")]
    [InlineData("::1:9092", "write an IPv6 address in brackets")]
    [InlineData("[::1:9092", "without its closing ']'")]
    [InlineData("[nope]:9092", "is not an IPv6 address")]
    [InlineData(":9092", "has no host")]
    [InlineData("kafka!:9092", "'kafka!', which is not a host name or address")]
    public void Problem_ListLibrdkafkaCannotUse_NamesTheEntryAndWhatIsWrong(string list, string expected)
    {
        var problem = KafkaBootstrapServers.Problem(list);

        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.EndsWith($"expected {KafkaBootstrapServers.Expected}.", problem, StringComparison.Ordinal);
    }
}
