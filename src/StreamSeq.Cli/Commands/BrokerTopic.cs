using System.Globalization;

namespace StreamSeq.Cli.Commands;

/// <summary>A topic <c>streamseq broker</c> creates at start: <c>NAME[:PARTITIONS[:REPLICATION]]</c>.</summary>
/// <param name="Name">Topic name.</param>
/// <param name="Partitions">Partition count.</param>
/// <param name="ReplicationFactor">Replicas per partition.</param>
internal sealed record BrokerTopic(string Name, int Partitions, int ReplicationFactor)
{
    /// <summary>
    /// Most partitions of one topic (as --partitions allows): the embedded broker allocates every partition at once,
    /// and --topic t:99999999 aborted the process in its allocator (exit code 134, a core dump).
    /// </summary>
    public const int MaxPartitions = 10_000;

    /// <summary>True for a topic of <c>--worker-topics</c>, false for one of <c>--topic</c>.</summary>
    public bool FromWorkerTopics { get; init; }

    /// <summary>Reads <c>NAME[:PARTITIONS[:REPLICATION]]</c> (1 partition and 1 replica by default).</summary>
    /// <exception cref="UsageException">The text is not one; the message quotes it.</exception>
    public static BrokerTopic Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length > 3 || string.IsNullOrWhiteSpace(parts[0]))
        {
            throw new UsageException($"--topic '{text}': expected NAME[:PARTITIONS[:REPLICATION]].");
        }

        if (StreamSeq.Kafka.KafkaTopicName.Problem(parts[0]) is { } problem)
        {
            throw new UsageException($"--topic '{text}': {problem}");
        }

        return new BrokerTopic(
            parts[0],
            parts.Length > 1 ? Positive(parts[1], "partitions", text, MaxPartitions) : 1,
            parts.Length > 2 ? Positive(parts[2], "replication factor", text, int.MaxValue) : 1);
    }

    private static int Positive(string value, string what, string text, int maximum)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw new UsageException($"--topic '{text}': {what} must be a positive integer, not '{value}'.");
        }

        return number <= maximum ? number : throw new UsageException($"--topic '{text}': {what} must be at most {maximum}, not {value}.");
    }
}
