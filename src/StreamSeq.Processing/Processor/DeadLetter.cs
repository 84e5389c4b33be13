using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Processor;

/// <summary>A record that could not be processed: the original bytes (when known) and why.</summary>
public readonly ref struct DeadLetter
{
    /// <summary>Creates a dead letter.</summary>
    public DeadLetter(DeadLetterReason reason, string message, SourcePosition source, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> original)
    {
        Reason = reason;
        Message = message;
        Source = source;
        StreamId = streamId;
        Original = original;
    }

    /// <summary>The reason.</summary>
    public DeadLetterReason Reason { get; }

    /// <summary>A message naming the field or record and the problem.</summary>
    public string Message { get; }

    /// <summary>Where the record came from.</summary>
    public SourcePosition Source { get; }

    /// <summary>The stream id, when known.</summary>
    public ReadOnlySpan<char> StreamId { get; }

    /// <summary>The original bytes (empty for records read from CSV).</summary>
    public ReadOnlySpan<byte> Original { get; }
}
