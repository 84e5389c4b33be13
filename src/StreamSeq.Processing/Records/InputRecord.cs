namespace StreamSeq.Processing.Records;

/// <summary>
/// One decoded observation of one stream, as the transport or a file reader hands it to the processor.
/// A ref struct over borrowed buffers, so decoding allocates nothing.
/// </summary>
public readonly ref struct InputRecord
{
    /// <summary>Creates a record.</summary>
    public InputRecord(
        ReadOnlySpan<char> streamId,
        RecordTime time,
        ReadOnlySpan<double> values,
        SourcePosition source,
        ReadOnlySpan<double> control = default,
        ReadOnlySpan<char> routeKey = default,
        ReadOnlySpan<byte> original = default)
    {
        StreamId = streamId;
        Time = time;
        Values = values;
        Source = source;
        Control = control;
        RouteKey = routeKey;
        Original = original;
    }

    /// <summary>The stream id (Kafka key).</summary>
    public ReadOnlySpan<char> StreamId { get; }

    /// <summary>Event time.</summary>
    public RecordTime Time { get; }

    /// <summary>Observed components; NaN = missing.</summary>
    public ReadOnlySpan<double> Values { get; }

    /// <summary>Optional control input u_t.</summary>
    public ReadOnlySpan<double> Control { get; }

    /// <summary>Optional routing key (for example a sensor-type header) used when the stream is first seen.</summary>
    public ReadOnlySpan<char> RouteKey { get; }

    /// <summary>Where the record came from (for dead letters and error messages).</summary>
    public SourcePosition Source { get; }

    /// <summary>The original encoded bytes, when the record came off the wire (for dead letters).</summary>
    public ReadOnlySpan<byte> Original { get; }
}
