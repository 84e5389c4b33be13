using Confluent.Kafka;
using Confluent.Kafka.Admin;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Creates the worker's topics on a real cluster when they are missing and the broker allows it (the changelog
/// compacted, partitioned like the input), and says when the changelog has fewer partitions than the input (the input
/// partitions beyond the changelog's then wait, unprocessed, until it grows).
/// </summary>
public static partial class TopicProvisioner
{
    /// <summary>Every topic the worker reads or writes.</summary>
    public static IEnumerable<string> TopicNames(KafkaTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return [options.InputTopic, options.FilteredTopic, options.SmoothedTopic, options.ForecastTopic, options.AnomalyTopic, options.DeadLetterTopic, options.ChangelogTopic];
    }

    /// <summary>
    /// Creates missing topics (when allowed) and checks the changelog's partition count: fewer partitions than the input
    /// is logged as an error naming the fix, and the worker starts with the lacking partitions waiting for theirs.
    /// </summary>
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

        // A changelog with fewer partitions than the input is what a rolling restart meets after an operator grew the
        // input first: refusing to start would crash-loop every pod while the running ones cope. The worker starts, and
        // the input partitions without a changelog partition wait (paused, unprocessed, not lost) until it grows, as in a
        // running worker. More changelog partitions than the input are harmless: the extra ones stay unused.
        if (existing.TryGetValue(options.InputTopic, out var input) && existing.TryGetValue(options.ChangelogTopic, out var changelog) && changelog < input)
        {
            LogChangelogShort(logger, options.ChangelogTopic, changelog, options.InputTopic, input, changelog, input - 1, options.ChangelogTopic, input);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created topics: {Topics}")]
    private static partial void LogCreated(ILogger logger, string topics);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not create topics ({Reason}). Create them before starting the worker; the changelog '{Changelog}' needs cleanup.policy=compact and as many partitions as the input topic.")]
    private static partial void LogCannotCreate(ILogger logger, string reason, string changelog);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Topics missing and StreamSeq:Kafka:CreateTopics is false: {Topics}")]
    private static partial void LogMissing(ILogger logger, string topics);

    [LoggerMessage(Level = LogLevel.Error, Message = "The changelog '{Changelog}' has {ChangelogPartitions} partitions but the input topic '{Input}' has {InputPartitions}: input partitions {First} to {Last} have no changelog partition to keep their state in. Their records wait, unprocessed and not lost, while the other partitions are processed: add partitions to the changelog (kafka-topics --alter --topic {ChangelogTopic} --partitions {Needed}); the worker then restores and processes them without a restart")]
    private static partial void LogChangelogShort(ILogger logger, string changelog, int changelogPartitions, string input, int inputPartitions, int first, int last, string changelogTopic, int needed);
}
