namespace StreamSeq.Kafka.Tests;

public sealed class KafkaClientSettingsTests
{
    [Fact]
    public void FindInvalid_UnknownPropertyAndInvalidValue_NamedWithLibrdkafkasReason()
    {
        var problems = KafkaClientSettings.FindInvalid(
        [
            new("security.protocol", "SASL_SSL"),
            new("bogus.key", "1"),
            new("acks", "sometimes"),
            new("linger.ms", "5"),
        ]);

        Assert.Equal(["bogus.key", "acks"], problems.Select(p => p.Key));
        Assert.Contains("No such configuration property", problems[0].Value, StringComparison.Ordinal);
        Assert.Contains("Invalid value", problems[1].Value, StringComparison.Ordinal);
    }
}
