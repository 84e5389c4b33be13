namespace StreamSeq.Processing.Processor;

/// <summary>Settings of the stream processor shared by the worker and the CLI.</summary>
public sealed class ProcessorOptions
{
    /// <summary>The largest fixed-smoothing lag the worker and the CLI accept (each step runs one backward pass per lag step).</summary>
    public const int MaxLag = 1000;

    /// <summary>The largest forecast horizon the worker and the CLI accept (one forecast record per horizon per observation).</summary>
    public const int MaxHorizon = 1000;

    /// <summary>
    /// How far behind a stream's newest time a record may arrive and still be processed in time order. Records are
    /// held until the stream's watermark (newest time minus this) passes them; older ones are dead-lettered as too late.
    /// Zero (default) processes every record at once.
    /// </summary>
    public TimeSpan AllowedLateness { get; init; }

    /// <summary>
    /// How far ahead a record's time may be before it is dead-lettered as <c>too-far-ahead</c>: ahead of the later of
    /// its transport timestamp (the Kafka record timestamp; files have none) and its stream's newest time. Null
    /// (default): no bound. Without a bound one reading stamped far in the future makes every later reading of its
    /// stream too late.
    /// </summary>
    public TimeSpan? MaxTimeSkew { get; init; }

    /// <summary>Largest accepted number of components per record.</summary>
    public int MaxComponents { get; init; } = 1024;

    /// <summary>Largest accepted encoded record in bytes.</summary>
    public int MaxRecordBytes { get; init; } = 1 << 20;

    /// <summary>Live streams per state store before the least recently used are evicted (0 = unlimited).</summary>
    public int MaxLiveStreams { get; init; }

    /// <summary>Keep every step's backward record to emit fixed-interval smoothed records at the end (files only).</summary>
    public bool KeepHistory { get; init; }

    /// <summary>
    /// Learned values new streams start from (<see cref="State.ParameterTable"/>): a stream created from nothing whose
    /// model learns its noise starts from its row instead of the spec's values; a restored stream keeps its own.
    /// </summary>
    public State.ParameterTable? StartingParameters { get; init; }
}
