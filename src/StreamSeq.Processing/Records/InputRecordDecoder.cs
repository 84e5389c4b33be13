using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Processing.Records;

/// <summary>
/// Decodes the input record contract, UTF-8 JSON <c>{"time": ISO-8601 | number, "values": [number|null, ...],
/// "control": [...]}</c>, into an <see cref="InputRecord"/> over reusable buffers (no allocation per record).
/// JSON Lines files add a <c>"stream"</c> field; Kafka records carry the stream id as the key.
/// </summary>
/// <remarks>
/// A missing <c>time</c> takes the fallback (the Kafka record timestamp). <c>null</c> and the string <c>"NaN"</c> are
/// missing components; any other value that is not a finite number (<c>1e999</c>, <c>"Infinity"</c>) is rejected, as
/// <see cref="InputRules"/> says for every input. Unknown fields are ignored so producers can add metadata. One
/// instance per thread.
/// </remarks>
public sealed class InputRecordDecoder
{
    private readonly double[] values;
    private readonly double[] control;

    /// <summary>
    /// Room for the longest field as written: it has at most <see cref="InputRules.MaxStreamIdBytes"/> characters, and a
    /// JSON escape (<c>\u00e9</c>) takes up to six bytes per character.
    /// </summary>
    private readonly char[] streamChars = new char[6 * InputRules.MaxStreamIdBytes];
    private readonly char[] timeChars = new char[64];
    private readonly int maxBytes;
    private readonly TimeFormat numericTimeFormat;

    /// <summary>Creates a decoder.</summary>
    /// <param name="maxComponents">Largest accepted number of values (and of control inputs).</param>
    /// <param name="maxRecordBytes">Largest accepted encoded record.</param>
    /// <param name="numericTimeFormat">What a numeric <c>time</c> means: epoch ms (Kafka) or model units (files).</param>
    public InputRecordDecoder(int maxComponents = 1024, int maxRecordBytes = 1 << 20, TimeFormat numericTimeFormat = TimeFormat.EpochMilliseconds)
    {
        values = new double[maxComponents];
        control = new double[maxComponents];
        maxBytes = maxRecordBytes;
        this.numericTimeFormat = numericTimeFormat;
    }

    /// <summary>Decodes one record.</summary>
    /// <param name="json">The record's bytes.</param>
    /// <param name="key">
    /// The stream id from the transport; empty when the record carries a <c>stream</c> field. When both are given they
    /// must be equal.
    /// </param>
    /// <param name="fallbackTime">Time used when the record has none (NaN: none available).</param>
    /// <param name="source">Where the record came from; a file line (<see cref="SourcePosition.FileLine"/>) has no
    /// transport key, so a record without a stream id is told it lacks the <c>stream</c> field.</param>
    /// <param name="record">The decoded record (valid until the next call).</param>
    /// <param name="reason">Why decoding failed.</param>
    /// <param name="error">A message naming the field and problem.</param>
    /// <returns>True when decoded.</returns>
    public bool TryDecode(
        ReadOnlySpan<byte> json,
        ReadOnlySpan<char> key,
        double fallbackTime,
        SourcePosition source,
        out InputRecord record,
        out DeadLetterReason reason,
        out string? error)
    {
        record = default;
        reason = DeadLetterReason.Unparseable;
        if (json.Length > maxBytes)
        {
            reason = DeadLetterReason.TooLarge;
            error = $"record is {json.Length} bytes, above the limit of {maxBytes}.";
            return false;
        }

        if (json.IsEmpty)
        {
            error = "record is empty (0 bytes; a Kafka tombstone has no value): it must be a JSON object.";
            return false;
        }

        // Every byte, not only those the reader decodes: the reader skips ignored fields without checking their strings.
        if (!Utf8.IsValid(json))
        {
            error = $"record is not valid UTF-8 (invalid sequence at byte {Utf8Text.FirstInvalid(json) + 1}).";
            return false;
        }

        var valueCount = -1;
        var controlCount = -1;
        var streamLength = -1;
        RecordTime? time = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "record must be a JSON object.";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("values"u8))
                {
                    if (valueCount >= 0)
                    {
                        error = Twice("values");
                        return false;
                    }

                    reader.Read();
                    valueCount = ReadArray(ref reader, values, "values", out error, out var tooMany);
                    if (valueCount < 0)
                    {
                        reason = tooMany ? DeadLetterReason.TooLarge : DeadLetterReason.Unparseable;
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("time"u8))
                {
                    if (time is not null)
                    {
                        error = Twice("time");
                        return false;
                    }

                    reader.Read();
                    if (!ReadTime(ref reader, out var t, out error))
                    {
                        return false;
                    }

                    time = t;
                }
                else if (reader.ValueTextEquals("control"u8))
                {
                    if (controlCount >= 0)
                    {
                        error = Twice("control");
                        return false;
                    }

                    reader.Read();
                    controlCount = ReadArray(ref reader, control, "control", out error, out var tooMany);
                    if (controlCount < 0)
                    {
                        reason = tooMany ? DeadLetterReason.TooLarge : DeadLetterReason.Unparseable;
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    if (streamLength >= 0)
                    {
                        error = Twice("stream");
                        return false;
                    }

                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = "field 'stream' must be a string.";
                        return false;
                    }

                    // The written length bounds the unescaped one: a field too long as written is too long, and any other
                    // fits the buffer unescaped and is measured there.
                    var needed = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                    if (needed <= streamChars.Length)
                    {
                        streamLength = reader.CopyString(streamChars);
                    }

                    if (needed > streamChars.Length)
                    {
                        error = $"field 'stream' is longer than {InputRules.MaxStreamIdBytes} bytes in UTF-8.";
                        reason = DeadLetterReason.TooLarge;
                        return false;
                    }

                    if (InputRules.StreamIdTooLong(streamChars.AsSpan(0, streamLength), "field 'stream'") is { } tooLong)
                    {
                        error = tooLong;
                        reason = DeadLetterReason.TooLarge;
                        return false;
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // Only white space (or a comment) may follow the object: anything else throws here.
            if (reader.Read())
            {
                error = "invalid JSON: text after the end of the record's object.";
                return false;
            }
        }
        catch (JsonException e)
        {
            error = $"invalid JSON{JsonErrors.Describe(e)}";
            return false;
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader throws this for text it cannot unescape (a lone surrogate such as "\ud800").
            error = $"invalid JSON text: {e.Message}";
            return false;
        }

        if (valueCount < 0)
        {
            error = "field 'values' is required (an array of numbers or nulls)." + UnknownFieldHint(json, "values");
            return false;
        }

        ReadOnlySpan<char> stream = key;
        if (streamLength >= 0)
        {
            stream = streamChars.AsSpan(0, streamLength);
            if (!key.IsEmpty && !stream.SequenceEqual(key))
            {
                reason = DeadLetterReason.KeyMismatch;
                error = $"field 'stream' (\"{Shorten(stream)}\") differs from the record's key (\"{Shorten(key)}\"), which is the stream id.";
                return false;
            }
        }

        if (stream.IsEmpty)
        {
            reason = DeadLetterReason.MissingKey;
            // A file line (partition -1) has no transport key: only its own field can carry the stream id.
            error = (source.Partition < 0 ? "record has no 'stream' field." : "record has no stream id (Kafka key or 'stream' field).") + UnknownFieldHint(json, "stream");
            return false;
        }

        if (time is null)
        {
            if (double.IsNaN(fallbackTime))
            {
                error = "field 'time' is required here (no transport timestamp to fall back on)." + UnknownFieldHint(json, "time");
                return false;
            }

            time = new RecordTime(fallbackTime, TimeFormat.EpochMilliseconds);
        }

        record = new InputRecord(stream, time.Value, values.AsSpan(0, valueCount), source, control.AsSpan(0, Math.Max(controlCount, 0)), default, json);
        error = null;
        return true;
    }

    /// <summary>A stream id for a message: control characters escaped, at most 100 characters.</summary>
    private static string Shorten(ReadOnlySpan<char> id)
    {
        var text = new StringBuilder();
        foreach (var c in id[..Math.Min(id.Length, 100)])
        {
            _ = char.IsControl(c) ? text.Append($"\\u{(int)c:x4}") : text.Append(c);
        }

        return id.Length > 100 ? text.Append("...").ToString() : text.ToString();
    }

    /// <summary>
    /// For a record without a required field: names the unknown field most like it (by edit distance, ignoring case),
    /// which the decoder ignored and which may be the required one misspelt or renamed (<c>"steram"</c>,
    /// <c>"sensor"</c>); empty when the record has no unknown field. Only on this error path: the record is read again,
    /// and decoding a good record still allocates nothing.
    /// </summary>
    private static string UnknownFieldHint(ReadOnlySpan<byte> json, string expected)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var unknown = 0;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString() ?? string.Empty;
                reader.Read();
                reader.Skip();
                if (name is "values" or "time" or "control" or "stream")
                {
                    continue;
                }

                unknown++;
                var distance = Spelling.Distance(name.ToLowerInvariant(), expected);
                if (distance < bestDistance)
                {
                    (best, bestDistance) = (name, distance);
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // A field name that cannot be unescaped: name what was found before it, if anything.
        }

        if (best is null)
        {
            return string.Empty;
        }

        var more = unknown > 1 ? $" (and {unknown - 1} more unknown field{(unknown > 2 ? "s" : string.Empty)})" : string.Empty;
        return $" It has field '{Shorten(best)}'{more}, which is ignored (not a field of the record): should it be '{expected}'?";
    }

    private static string Twice(string field) => $"field '{field}' appears twice (a record gives each field once).";

    private bool ReadTime(ref Utf8JsonReader reader, out RecordTime time, out string? error)
    {
        time = default;
        error = null;
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (!reader.TryGetDouble(out var d) || !double.IsFinite(d))
            {
                error = "field 'time' is not a finite number.";
                return false;
            }

            // Epoch milliseconds that large are long after the year 9999, which the processor reports as such.
            if (numericTimeFormat == TimeFormat.ModelUnits && Math.Abs(d) >= InputRules.MaxExactWholeTime)
            {
                var raw = System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan.ToArray());
                if (InputRules.InexactTime(d, raw) is { } inexact)
                {
                    error = $"field 'time' {raw} {inexact}.";
                    return false;
                }
            }

            time = new RecordTime(d, numericTimeFormat);
            return true;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var length = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
            if (length > timeChars.Length)
            {
                error = "field 'time' is too long to be a date-time.";
                return false;
            }

            var n = reader.CopyString(timeChars);
            var text = timeChars.AsSpan(0, n);
            if (RecordTime.TryParseIso(text, out time))
            {
                return true;
            }

            error = $"field 'time' is not an ISO-8601 date-time: \"{text}\".";
            return false;
        }

        error = "field 'time' must be an ISO-8601 string or a number.";
        return false;
    }

    private static int ReadArray(ref Utf8JsonReader reader, double[] target, string field, out string? error, out bool tooMany)
    {
        error = null;
        tooMany = false;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            error = $"field '{field}' must be an array of numbers or nulls.";
            return -1;
        }

        var count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (count >= target.Length)
            {
                tooMany = true;
                error = $"field '{field}' has more than the limit of {target.Length} components.";
                return -1;
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.Number when reader.TryGetDouble(out var d) && double.IsFinite(d):
                    target[count] = d;
                    break;
                case JsonTokenType.Number:
                    error = $"field '{field}' element {count} is not a finite number (missing readings are null or \"NaN\").";
                    return -1;
                case JsonTokenType.Null:
                    target[count] = double.NaN;
                    break;
                case JsonTokenType.String when reader.ValueTextEquals("NaN"u8):
                    target[count] = double.NaN;
                    break;
                default:
                    error = $"field '{field}' element {count} must be a finite number, null or \"NaN\".";
                    return -1;
            }

            count++;
        }

        return count;
    }
}
