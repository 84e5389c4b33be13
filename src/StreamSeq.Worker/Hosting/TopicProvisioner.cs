using Confluent.Kafka;
using Confluent.Kafka.Admin;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Creates the worker's topics on a real cluster when they are missing and the broker allows it (the changelog
/// compacted, partitioned like the input), and checks that the changelog has at least as many partitions as the input.
/// </summary>
public static partial class TopicProvisioner
{
    /// <summary>Every topic the worker reads or writes.</summary>
    public static IEnumerable<string> TopicNames(KafkaTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return [options.InputTopic, options.FilteredTopic, options.SmoothedTopic, options.ForecastTopic, options.AnomalyTopic, options.DeadLetterTopic, options.ChangelogTopic];
    }

    /// <summary>Creates missing topics (when allowed) and validates the changelog's partition count.</summary>
    /// <exception cref="WorkerStartException">The changelog has fewer partitions than the input topic.</exception>
    public static async Task EnsureTopicsAsync(IAdminClient admin, KafkaTransportOptions options, ILogger logger, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(options);
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(15));
        var existing = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).ToDictionary(t => t.Topic, t => t.Partitions.Count);
        var missing = TopicNames(options).Where(t => !existing.ContainsKey(t)).ToList();
        if (missing.Count > 0 && options.CreateTopics)
        {
            var inputPartitions = existing.GetValueOrDefault(options.InputTopic, options.TopicPartitions);
            var specs = missing.Select(t => new TopicSpecification
            {
                Name = t,
                NumPartitions = t == options.ChangelogTopic ? inputPartitions : options.TopicPartitions,
                ReplicationFactor = options.ReplicationFactor,
                Configs = t == options.ChangelogTopic
                    ? new Dictionary<string, string> { ["cleanup.policy"] = "compact", ["min.compaction.lag.ms"] = "60000", ["segment.ms"] = "3600000" }
                    : [],
            }).ToList();
            try
            {
                await admin.CreateTopicsAsync(specs, new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(15) }).WaitAsync(cancellation).ConfigureAwait(false);
                LogCreated(logger, string.Join(", ", missing));
            }
            catch (CreateTopicsException e)
            {
                var failures = e.Results.Where(r => r.Error.Code is not (ErrorCode.NoError or ErrorCode.TopicAlreadyExists)).ToList();
                if (failures.Count > 0)
                {
                    LogCannotCreate(logger, string.Join("; ", failures.Select(f => $"{f.Topic}: {f.Error.Reason}")), options.ChangelogTopic);
                }
            }
            catch (Exception e) when (e is KafkaException or TimeoutException or OperationCanceledException)
            {
                LogCannotCreate(logger, e.Message, options.ChangelogTopic);
            }

            metadata = admin.GetMetadata(TimeSpan.FromSeconds(15));
            existing = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).ToDictionary(t => t.Topic, t => t.Partitions.Count);
        }
        else if (missing.Count > 0)
        {
            LogMissing(logger, string.Join(", ", missing));
        }

        if (existing.TryGetValue(options.InputTopic, out var input) && existing.TryGetValue(options.ChangelogTopic, out var changelog) && changelog < input)
        {
            throw new WorkerStartException(
                $"StreamSeq:Kafka:ChangelogTopic: '{options.ChangelogTopic}' has {changelog} partitions but the input topic '{options.InputTopic}' has {input}; the changelog needs at least as many (partition p of the input keeps its state in partition p of the changelog).");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created topics: {Topics}")]
    private static partial void LogCreated(ILogger logger, string topics);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not create topics ({Reason}). Create them before starting the worker; the changelog '{Changelog}' needs cleanup.policy=compact and as many partitions as the input topic.")]
    private static partial void LogCannotCreate(ILogger logger, string reason, string changelog);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Topics missing and StreamSeq:Kafka:CreateTopics is false: {Topics}")]
    private static partial void LogMissing(ILogger logger, string topics);
}
