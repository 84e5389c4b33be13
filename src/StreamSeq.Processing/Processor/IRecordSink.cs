using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Processor;

/// <summary>Where the processor's outputs go: a Kafka transaction, a JSON Lines file, a test list.</summary>
/// <remarks>Spans are only valid during the call; a sink that keeps them must copy.</remarks>
public interface IRecordSink
{
    /// <summary>One output record.</summary>
    /// <param name="kind">The record kind (the <c>type</c> field; selects the Kafka topic).</param>
    /// <param name="streamId">The stream id (the Kafka key).</param>
    /// <param name="record">The encoded record.</param>
    void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record);

    /// <summary>A record that could not be processed.</summary>
    void DeadLetter(in DeadLetter letter);
}
