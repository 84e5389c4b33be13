using System.Text;
using System.Text.Json;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Tests.Support;

/// <summary>Collects output records and dead letters for assertions.</summary>
internal sealed class ListSink : IRecordSink
{
    public List<(OutputKind Kind, string Stream, string Json)> Records { get; } = [];

    public List<(DeadLetterReason Reason, string Message, SourcePosition Source, string Original)> DeadLetters { get; } = [];

    public IEnumerable<JsonElement> Of(OutputKind kind) =>
        Records.Where(r => r.Kind == kind).Select(r => JsonDocument.Parse(r.Json).RootElement);

    public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record) =>
        Records.Add((kind, streamId.ToString(), Encoding.UTF8.GetString(record)));

    public void DeadLetter(in DeadLetter letter) =>
        DeadLetters.Add((letter.Reason, letter.Message, letter.Source, Encoding.UTF8.GetString(letter.Original)));
}
