using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>Discards every output and dead letter (for building states outside a worker).</summary>
internal sealed class NullSink : IRecordSink
{
    public static readonly NullSink Instance = new();

    public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
    {
    }

    public void DeadLetter(in DeadLetter letter)
    {
    }
}
