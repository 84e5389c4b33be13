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
        var named = Topics(options);
        var invalid = named.Select(n => (n.Key, Problem: KafkaTopicName.Problem(n.Topic))).Where(n => n.Problem is not null).Select(n => $"StreamSeq:Kafka:{n.Key}: {n.Problem}").ToList();
        if (KafkaBootstrapServers.Problem(options.BootstrapServers) is { } brokers)
        {
            invalid.Insert(0, $"StreamSeq:Kafka:{nameof(options.BootstrapServers)}: {brokers}");
        }

        if (invalid.Count > 0)
        {
            return ValidateOptionsResult.Fail(invalid);
        }

        // One line per setting that shares its topic and was changed from its default (a default the user did not write
        // is named as such), each starting with its own key so that the line also names where its value came from.
        var defaultTopics = Topics(new KafkaTransportOptions()).ToDictionary(n => n.Key, n => n.Topic, StringComparer.Ordinal);
        var shared = new List<string>();
        foreach (var group in named.GroupBy(n => n.Topic, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var changed = group.Where(n => !string.Equals(n.Topic, defaultTopics[n.Key], StringComparison.Ordinal)).ToList();
            foreach (var setting in changed.Count > 0 ? changed : [.. group])
            {
                var others = string.Join(" and ", group.Where(o => o.Key != setting.Key).Select(o => string.Equals(o.Topic, defaultTopics[o.Key], StringComparison.Ordinal) ? $"StreamSeq:Kafka:{o.Key} (its default)" : $"StreamSeq:Kafka:{o.Key}"));
                shared.Add($"StreamSeq:Kafka:{setting.Key}: topic '{setting.Topic}' is also the topic of {others}; input, outputs, dead letters and changelog need distinct topics.");
            }
        }

        if (shared.Count > 0)
        {
            return ValidateOptionsResult.Fail(shared);
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

    /// <summary>The topic settings, each with its key under <c>StreamSeq:Kafka</c>.</summary>
    private static (string Key, string Topic)[] Topics(KafkaTransportOptions options) =>
    [
        (nameof(options.InputTopic), options.InputTopic), (nameof(options.FilteredTopic), options.FilteredTopic),
        (nameof(options.SmoothedTopic), options.SmoothedTopic), (nameof(options.ForecastTopic), options.ForecastTopic),
        (nameof(options.AnomalyTopic), options.AnomalyTopic), (nameof(options.DeadLetterTopic), options.DeadLetterTopic),
        (nameof(options.ChangelogTopic), options.ChangelogTopic),
    ];
}
