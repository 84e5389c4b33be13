namespace StreamSeq.Processing.Records;

/// <summary>How a record's time was written, so outputs echo it the same way.</summary>
public enum TimeFormat : byte
{
    /// <summary>A number in model time units (files replayed by the CLI).</summary>
    ModelUnits = 0,

    /// <summary>Milliseconds since the Unix epoch (Kafka record values and timestamps).</summary>
    EpochMilliseconds = 1,

    /// <summary>An ISO-8601 string; kept internally as epoch milliseconds and written back as ISO-8601 UTC.</summary>
    Iso8601 = 2,
}
