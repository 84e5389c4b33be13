using System.Globalization;

namespace StreamSeq.EmbeddedBroker;

/// <summary>A topic to create at start-up: <c>NAME[:PARTITIONS[:REPLICATION]]</c>.</summary>
internal sealed record TopicSpec(string Name, int Partitions, int ReplicationFactor)
{
    public static TopicSpec Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length > 3 || string.IsNullOrWhiteSpace(parts[0]))
        {
            throw new FormatException($"--topic '{text}': expected NAME[:PARTITIONS[:REPLICATION]].");
        }

        return new TopicSpec(
            parts[0],
            parts.Length > 1 ? Positive(parts[1], "partitions", text) : 1,
            parts.Length > 2 ? Positive(parts[2], "replication factor", text) : 1);
    }

    private static int Positive(string value, string what, string text) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new FormatException($"--topic '{text}': {what} must be a positive integer, not '{value}'.");
}
