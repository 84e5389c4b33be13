using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Confluent.Kafka;
using StreamSeq.Processing.Records;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// Writes Kafka records as JSON Lines in a <see cref="ReadFormat"/>. A value that is one JSON document is written as
/// it is, unless it spans several lines or holds a character a terminal would act on (a raw tab, DEL, C1 control or
/// bidirectional control, <see cref="TerminalSafeText"/>): then it is re-encoded on one line with those escaped. Any
/// other value becomes a JSON string (text) or, when it is not UTF-8, its base64 under a <c>base64</c> property, so
/// every line stays one JSON document and nothing in a record can drive the terminal it is printed on.
/// </summary>
/// <remarks>
/// JSON here means a JSON text as RFC 8259 defines it: UTF-8, and strings that are Unicode text. A document with
/// invalid UTF-8 in it is not UTF-8 (base64), and one with an unpaired surrogate escape (<c>"\ud800"</c>), which no
/// JSON library can turn into a string, is text (a JSON string of it): before, the first made <c>--format value</c>
/// print the raw bytes and the second stopped <c>--format record</c> at that record with exit code 1.
/// </remarks>
internal sealed class RecordLineWriter(Stream output, ReadFormat format)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ArrayBufferWriter<byte> buffer = new(1024);

    /// <summary>Records left out because they cannot be written in the format (<see cref="ReadFormat.Input"/> needs an object value and a key).</summary>
    public long Skipped { get; private set; }

    /// <summary>Writes one record as one line.</summary>
    public void Write(ConsumeResult<byte[], byte[]> record)
    {
        var message = record.Message;
        buffer.ResetWrittenCount();
        switch (format)
        {
            case ReadFormat.Value:
                WriteValue(message.Value);
                break;
            case ReadFormat.Input:
                if (!TryWriteInput(message))
                {
                    Skipped++;
                    return;
                }

                break;
            default:
                WriteRecord(record);
                break;
        }

        output.Write(buffer.WrittenSpan);
        output.WriteByte((byte)'\n');
    }

    private void WriteValue(byte[]? value)
    {
        if (value is not null && TerminalSafeText.IsSafeUtf8(value) && IsJson(value))
        {
            // One line (no raw line end) and nothing a terminal acts on: the record's bytes as they are.
            buffer.Write(value);
            return;
        }

        using var json = new Utf8JsonWriter(buffer, OutputRecordWriter.JsonOptions);
        WriteValue(json, value);
    }

    private bool TryWriteInput(Message<byte[], byte[]> message)
    {
        if (message.Key is null || Text(message.Key) is not { } key || message.Value is null)
        {
            return false;
        }

        if (!IsJson(message.Value))
        {
            return false;
        }

        using (var document = JsonDocument.Parse(message.Value))
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            using var json = new Utf8JsonWriter(buffer, OutputRecordWriter.JsonOptions);
            json.WriteStartObject();
            json.WriteString("stream", key);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name != "stream")
                {
                    property.WriteTo(json);
                }
            }

            json.WriteEndObject();
        }

        return true;
    }

    private void WriteRecord(ConsumeResult<byte[], byte[]> record)
    {
        var message = record.Message;
        using var json = new Utf8JsonWriter(buffer, OutputRecordWriter.JsonOptions);
        json.WriteStartObject();
        json.WriteString("topic", record.Topic);
        json.WriteNumber("partition", record.Partition.Value);
        json.WriteNumber("offset", record.Offset.Value);
        if (message.Timestamp.Type != TimestampType.NotAvailable)
        {
            json.WriteNumber("timestamp", message.Timestamp.UnixTimestampMs);
        }

        json.WritePropertyName("key");
        WriteText(json, message.Key);
        json.WritePropertyName("headers");
        json.WriteStartArray();
        foreach (var header in message.Headers ?? [])
        {
            json.WriteStartObject();
            json.WriteString("key", header.Key);
            json.WritePropertyName("value");
            WriteText(json, header.GetValueBytes());
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WritePropertyName("value");
        WriteValue(json, message.Value);
        json.WriteEndObject();
    }

    /// <summary>A JSON document as itself, other text as a string, anything else as base64.</summary>
    private static void WriteValue(Utf8JsonWriter json, byte[]? value)
    {
        if (value is not null && IsJson(value))
        {
            using var document = JsonDocument.Parse(value);
            document.RootElement.WriteTo(json);
            return;
        }

        WriteText(json, value);
    }

    private static void WriteText(Utf8JsonWriter json, byte[]? bytes)
    {
        if (bytes is null)
        {
            json.WriteNullValue();
        }
        else if (Text(bytes) is { } text)
        {
            json.WriteStringValue(text);
        }
        else
        {
            json.WriteStartObject();
            json.WriteBase64String("base64", bytes);
            json.WriteEndObject();
        }
    }

    private static string? Text(byte[] bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="value"/> is one JSON document in UTF-8 whose strings are all Unicode text.</summary>
    private static bool IsJson(byte[] value)
    {
        if (!Utf8.IsValid(value))
        {
            return false;
        }

        var reader = new Utf8JsonReader(value);
        try
        {
            var tokens = 0;
            while (reader.Read())
            {
                tokens++;
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    // Throws on an unpaired surrogate escape; allocates only for strings with escapes.
                    _ = reader.GetString();
                }
            }

            // The reader throws on a second document or one left open.
            return tokens > 0;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}
