using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Configuration;

/// <summary>Cross-field checks of the Kafka settings that attributes cannot express.</summary>
public sealed class KnownSettingsValidator : IValidateOptions<KafkaTransportOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, KafkaTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var topics = new[] { options.InputTopic, options.FilteredTopic, options.SmoothedTopic, options.ForecastTopic, options.AnomalyTopic, options.DeadLetterTopic, options.ChangelogTopic };
        var duplicate = topics.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            return ValidateOptionsResult.Fail($"StreamSeq:Kafka: topic '{duplicate.Key}' is used for two purposes; input, outputs, dead letters and changelog need distinct topics.");
        }

        if (options.CommitInterval >= options.TransactionTimeout)
        {
            return ValidateOptionsResult.Fail($"StreamSeq:Kafka:CommitInterval ({options.CommitInterval}) must be shorter than StreamSeq:Kafka:TransactionTimeout ({options.TransactionTimeout}).");
        }

        if (options.StallTimeout <= options.TransactionTimeout)
        {
            return ValidateOptionsResult.Fail($"StreamSeq:Kafka:StallTimeout ({options.StallTimeout}) must be longer than StreamSeq:Kafka:TransactionTimeout ({options.TransactionTimeout}): one commit attempt may take that long.");
        }

        return ValidateOptionsResult.Success;
    }
}
