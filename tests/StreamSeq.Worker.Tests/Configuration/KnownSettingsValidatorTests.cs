using StreamSeq.Kafka.Transport;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Configuration;

public sealed class KnownSettingsValidatorTests
{
    [Theory]
    [InlineData("00:00:10", "00:00:10")]
    [InlineData("00:00:05", "00:00:10")]
    public void Validate_StallTimeoutNotLongerThanTransactionTimeout_FailsNamingBothSettings(string stall, string transaction)
    {
        var result = new KnownSettingsValidator().Validate(null, new KafkaTransportOptions { StallTimeout = TimeSpan.Parse(stall, System.Globalization.CultureInfo.InvariantCulture), TransactionTimeout = TimeSpan.Parse(transaction, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(result.Failed);
        Assert.Contains("StreamSeq:Kafka:StallTimeout", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("StreamSeq:Kafka:TransactionTimeout", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_Succeed() => Assert.True(new KnownSettingsValidator().Validate(null, new KafkaTransportOptions()).Succeeded);

    [Fact]
    public void Validate_TopicNamesKafkaRefuses_FailsNamingEverySetting()
    {
        var result = new KnownSettingsValidator().Validate(null, new KafkaTransportOptions { InputTopic = "sensor readings", ChangelogTopic = new string('c', 250) });

        Assert.True(result.Failed);
        Assert.Equal(
            [
                "StreamSeq:Kafka:InputTopic: 'sensor readings' has the character U+0020 at position 7; a topic name uses only letters a-z and A-Z, digits, '.', '_' and '-'.",
                "StreamSeq:Kafka:ChangelogTopic: a topic name has at most 249 characters, this one has 250.",
            ],
            result.Failures);
    }
}
