using System.Buffers;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using StreamSeq.Processing.Records;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// Writes Kafka records as JSON Lines in a <see cref="ReadFormat"/>. A value that is one JSON document is written as
/// it is (compacted to one line when it spans several); any other value becomes a JSON string (text) or, when it is
/// not UTF-8, its base64 under a <c>base64</c> property, so every line stays one JSON document.
/// </summary>
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
        if (value is not null && IsOneLineJson(value))
        {
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

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message.Value);
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
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

    private static bool IsOneLineJson(byte[] value) => value.AsSpan().IndexOfAny((byte)'\n', (byte)'\r') < 0 && IsJson(value);

    private static bool IsJson(byte[] value)
    {
        var reader = new Utf8JsonReader(value);
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
