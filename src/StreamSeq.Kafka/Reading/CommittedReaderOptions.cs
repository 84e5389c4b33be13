namespace StreamSeq.Kafka.Reading;

/// <summary>What <see cref="CommittedReader"/> reads and how.</summary>
public sealed class CommittedReaderOptions
{
    /// <summary>The changelog topic the worker uses by default (<c>StreamSeq:Kafka:ChangelogTopic</c>).</summary>
    public const string DefaultChangelogTopic = "streamseq.changelog";

    /// <summary>Broker list.</summary>
    public required string BootstrapServers { get; init; }

    /// <summary>The topic to read (every partition).</summary>
    public required string Topic { get; init; }

    /// <summary>
    /// The worker's changelog topics, whose offset markers decide under <see cref="ReadIsolation.Marker"/> (usually one;
    /// several when workers were pointed at another changelog, such as a compacted copy, part of the way).
    /// </summary>
    public IReadOnlyList<string> ChangelogTopics { get; init; } = [DefaultChangelogTopic];

    /// <summary>How committed records are told apart.</summary>
    public ReadIsolation Isolation { get; init; } = ReadIsolation.Broker;

    /// <summary>Start at the oldest record the broker keeps (otherwise at the end: only records written from now on).</summary>
    public bool FromBeginning { get; init; } = true;

    /// <summary>Keep reading new records until cancelled (otherwise stop at the end of every partition).</summary>
    public bool Follow { get; init; }

    /// <summary>Stop after this many records (0: no limit).</summary>
    public long MaxRecords { get; init; }

    /// <summary>Extra librdkafka settings (security, tuning), passed through unchanged.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Client { get; init; } = [];

    /// <summary>How long to wait for the broker to answer the first metadata request.</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
