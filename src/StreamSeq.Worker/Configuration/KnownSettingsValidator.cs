using Microsoft.Extensions.Options;
using StreamSeq.Kafka;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Configuration;

/// <summary>Cross-field checks of the Kafka settings that attributes cannot express.</summary>
public sealed class KnownSettingsValidator : IValidateOptions<KafkaTransportOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, KafkaTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var named = new (string Key, string Topic)[]
        {
            (nameof(options.InputTopic), options.InputTopic), (nameof(options.FilteredTopic), options.FilteredTopic),
            (nameof(options.SmoothedTopic), options.SmoothedTopic), (nameof(options.ForecastTopic), options.ForecastTopic),
            (nameof(options.AnomalyTopic), options.AnomalyTopic), (nameof(options.DeadLetterTopic), options.DeadLetterTopic),
            (nameof(options.ChangelogTopic), options.ChangelogTopic),
        };
        var invalid = named.Select(n => (n.Key, Problem: KafkaTopicName.Problem(n.Topic))).Where(n => n.Problem is not null).Select(n => $"StreamSeq:Kafka:{n.Key}: {n.Problem}").ToList();
        if (KafkaBootstrapServers.Problem(options.BootstrapServers) is { } brokers)
        {
            invalid.Insert(0, $"StreamSeq:Kafka:{nameof(options.BootstrapServers)}: {brokers}");
        }

        if (invalid.Count > 0)
        {
            return ValidateOptionsResult.Fail(invalid);
        }

        var topics = named.Select(n => n.Topic).ToArray();
        var duplicate = topics.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            return ValidateOptionsResult.Fail($"StreamSeq:Kafka: topic '{duplicate.Key}' is used for two purposes; input, outputs, dead letters and changelog need distinct topics.");
        }

        if (options.CommitInterval >= options.TransactionTimeout)
        {
            return ValidateOptionsResult.Fail($"StreamSeq:Kafka:CommitInterval ({DurationConverter.Format(options.CommitInterval)}) must be shorter than StreamSeq:Kafka:TransactionTimeout ({DurationConverter.Format(options.TransactionTimeout)}).");
        }

        if (options.StallTimeout <= options.TransactionTimeout)
        {
            return ValidateOptionsResult.Fail($"StreamSeq:Kafka:StallTimeout ({DurationConverter.Format(options.StallTimeout)}) must be longer than StreamSeq:Kafka:TransactionTimeout ({DurationConverter.Format(options.TransactionTimeout)}): one commit attempt may take that long.");
        }

        return ValidateOptionsResult.Success;
    }
}
