namespace StreamSeq.Processing.Processor;

/// <summary>Settings of the stream processor shared by the worker and the CLI.</summary>
public sealed class ProcessorOptions
{
    /// <summary>
    /// How far behind a stream's newest time a record may arrive and still be processed in time order. Records are
    /// held until the stream's watermark (newest time minus this) passes them; older ones are dead-lettered as too late.
    /// Zero (default) processes every record at once.
    /// </summary>
    public TimeSpan AllowedLateness { get; init; }

    /// <summary>Largest accepted number of components per record.</summary>
    public int MaxComponents { get; init; } = 1024;

    /// <summary>Largest accepted encoded record in bytes.</summary>
    public int MaxRecordBytes { get; init; } = 1 << 20;

    /// <summary>Live streams per state store before the least recently used are evicted (0 = unlimited).</summary>
    public int MaxLiveStreams { get; init; }

    /// <summary>Keep every step's backward record to emit fixed-interval smoothed records at the end (files only).</summary>
    public bool KeepHistory { get; init; }
}
