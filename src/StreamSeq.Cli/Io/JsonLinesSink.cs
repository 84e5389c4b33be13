using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;

namespace StreamSeq.Cli.Io;

/// <summary>Writes output records as JSON Lines and reports dead letters (stderr, and optionally a JSON Lines file).</summary>
internal sealed class JsonLinesSink : IRecordSink, IDisposable
{
    private static readonly byte[] NewLine = [(byte)'\n'];
    private readonly Stream output;
    private readonly Stream? deadLetters;
    private readonly RejectedRows reporter;
    private bool disposed;

    public JsonLinesSink(Stream output, Stream? deadLetters, TextWriter errors, int maxReported = 20)
    {
        this.output = output;
        this.deadLetters = deadLetters;
        reporter = new RejectedRows(errors, maxReported, deadLetters is null ? "; use --dead-letters FILE to keep them" : null);
    }

    public long Written { get; private set; }

    public long Rejected { get; private set; }

    public Dictionary<OutputKind, long> ByKind { get; } = [];

    public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
    {
        output.Write(record);
        output.Write(NewLine);
        Written++;
        ByKind[kind] = ByKind.GetValueOrDefault(kind) + 1;
    }

    public void DeadLetter(in DeadLetter letter)
    {
        Rejected++;
        reporter.Report($"{letter.Source}: {DeadLetterReasons.Name(letter.Reason)}: {letter.Message}");

        if (deadLetters is null)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, OutputRecordWriter.JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("reason", DeadLetterReasons.Name(letter.Reason));
            json.WriteString("message", letter.Message);
            json.WriteString("source", letter.Source.Source);
            json.WriteNumber(letter.Source.Partition < 0 ? "line" : "offset", letter.Source.Offset);
            if (!letter.StreamId.IsEmpty)
            {
                json.WriteString("stream", letter.StreamId);
            }

            if (!letter.Original.IsEmpty && Utf8.IsValid(letter.Original))
            {
                json.WriteString("original", Encoding.UTF8.GetString(letter.Original));
            }
            else if (!letter.Original.IsEmpty)
            {
                // Decoded, its bytes that are not UTF-8 would become U+FFFD and be lost: base64 keeps them.
                json.WriteBase64String("original_base64", letter.Original);
            }

            json.WriteEndObject();
        }

        deadLetters.Write(buffer.WrittenSpan);
        deadLetters.Write(NewLine);
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        output.Flush();
        deadLetters?.Flush();
    }
}
