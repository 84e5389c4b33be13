using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// Reads and writes the safetensors format: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON
/// mapping each tensor name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (plus an optional
/// <c>"__metadata__"</c> string map), then the tensors' raw little-endian bytes, offsets counted from the end of the
/// header.
/// </summary>
/// <remarks>
/// Reading is strict, as the format asks: offsets must lie inside the data, match the dtype and shape, and cover
/// the data exactly once without holes. Writing keeps the dictionary's order and pads the header with spaces to a
/// multiple of 8 bytes, so the tensor data starts aligned.
/// </remarks>
public static class SafeTensorsFormat
{
    private const string MetadataKey = "__metadata__";
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Reads a safetensors file.</summary>
    /// <param name="path">The file path.</param>
    /// <returns>The tensors, in the order of their data offsets; <see cref="StateDictionary.Source"/> is the path.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message says why.</exception>
    public static StateDictionary ReadFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads safetensors content from a stream (to its end).</summary>
    /// <param name="stream">The stream positioned at the start of the content.</param>
    /// <param name="source">A name for the content, quoted in error messages.</param>
    /// <returns>The tensors, in the order of their data offsets.</returns>
    /// <exception cref="InvalidDataException">The content is not valid safetensors; the message says why.</exception>
    public static StateDictionary Read(Stream stream, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var where = source is null ? "safetensors content" : $"safetensors file '{source}'";
        Span<byte> lengthBytes = stackalloc byte[8];
        if (!TryReadExactly(stream, lengthBytes))
        {
            throw new InvalidDataException($"{where}: shorter than the 8-byte header length.");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
        {
            throw new InvalidDataException($"{where}: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit.");
        }

        var header = new byte[headerLength];
        if (!TryReadExactly(stream, header))
        {
            throw new InvalidDataException($"{where}: header length {headerLength} runs past the end of the content.");
        }

        using var rest = new MemoryStream();
        stream.CopyTo(rest);
        var data = rest.GetBuffer().AsSpan(0, (int)rest.Length);
        return Parse(header, data, where, source);
    }

    /// <summary>Writes a state dictionary to a safetensors file.</summary>
    /// <param name="path">The file path (overwritten).</param>
    /// <param name="tensors">The tensors and metadata to write.</param>
    public static void WriteFile(string path, StateDictionary tensors)
    {
        using var stream = File.Create(path);
        Write(stream, tensors);
    }

    /// <summary>Writes a state dictionary as safetensors content.</summary>
    /// <param name="stream">The destination stream.</param>
    /// <param name="tensors">The tensors (written in their order) and metadata.</param>
    public static void Write(Stream stream, StateDictionary tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (tensors.Metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in tensors.Metadata)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (var t in tensors.Tensors)
            {
                writer.WriteStartObject(t.Name);
                writer.WriteString("dtype", TensorDataTypes.ToSafeTensorsName(t.DataType));
                writer.WriteStartArray("shape");
                foreach (var d in t.Shape)
                {
                    writer.WriteNumberValue(d);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += t.RawData.Length;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        var padding = (int)((8 - (json.Length % 8)) % 8);
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)(json.Length + padding));
        stream.Write(lengthBytes);
        stream.Write(json.GetBuffer().AsSpan(0, (int)json.Length));
        for (var k = 0; k < padding; k++)
        {
            stream.WriteByte((byte)' ');
        }

        foreach (var t in tensors.Tensors)
        {
            stream.Write(t.RawData);
        }
    }

    private static StateDictionary Parse(byte[] header, ReadOnlySpan<byte> data, string where, string? source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{where}: the header is not valid JSON ({ex.Message}).", ex);
        }

        using (doc)
        {
            if (Utf8Text.FirstNonUnicode(doc.RootElement) is { } notText)
            {
                throw new InvalidDataException($"{where}: in the header, {notText} is not Unicode text (not UTF-8, or an unpaired surrogate escape such as \\ud800).");
            }

            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{where}: the header is not a JSON object.");
            }

            Dictionary<string, string>? metadata = null;
            var entries = new List<(string Name, TensorDataType Type, int[] Shape, long Begin, long End)>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.NameEquals(MetadataKey))
                {
                    metadata = ParseMetadata(property.Value, where);
                    continue;
                }

                entries.Add(ParseEntry(property.Name, property.Value, where, data.Length));
            }

            entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long expectedBegin = 0;
            var tensors = new List<NamedTensor>(entries.Count);
            foreach (var e in entries)
            {
                if (e.Begin != expectedBegin)
                {
                    throw new InvalidDataException(
                        $"{where}: tensor '{e.Name}' starts at byte {e.Begin} but the previous tensor ends at {expectedBegin} (overlap or hole).");
                }

                tensors.Add(NamedTensor.FromRawData(e.Name, e.Type, e.Shape, data[(int)e.Begin..(int)e.End]));
                expectedBegin = e.End;
            }

            if (expectedBegin != data.Length)
            {
                throw new InvalidDataException(
                    $"{where}: the tensors cover {expectedBegin} bytes but the data section holds {data.Length}.");
            }

            return TorchJsonFormat.Dictionary(tensors, metadata, source, where);
        }
    }

    private static Dictionary<string, string> ParseMetadata(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{where}: '{MetadataKey}' is not an object of strings.");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in element.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"{where}: metadata entry '{p.Name}' is not a string.");
            }

            metadata[p.Name] = p.Value.GetString()!;
        }

        return metadata;
    }

    private static (string Name, TensorDataType Type, int[] Shape, long Begin, long End) ParseEntry(
        string name, JsonElement element, string where, int dataLength)
    {
        if (name.Length == 0)
        {
            // NamedTensor's ArgumentException used to escape.
            throw new InvalidDataException($"{where}: a tensor has an empty name.");
        }

        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !element.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
        {
            throw new InvalidDataException(
                $"{where}: tensor '{name}' needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end]).");
        }

        var dtypeName = dtypeElement.GetString()!;
        if (!TensorDataTypes.TryParseSafeTensorsName(dtypeName, out var type))
        {
            throw new InvalidDataException($"{where}: tensor '{name}' has unsupported dtype '{dtypeName}'.");
        }

        var shape = new int[shapeElement.GetArrayLength()];
        var k = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var dim) || dim < 0)
            {
                throw new InvalidDataException($"{where}: tensor '{name}' has an invalid dimension {d.GetRawText()} in its shape.");
            }

            shape[k++] = dim;
        }

        var begin = ReadOffset(offsetsElement[0], name, where);
        var end = ReadOffset(offsetsElement[1], name, where);
        if (end < begin || end > dataLength)
        {
            throw new InvalidDataException(
                $"{where}: tensor '{name}' has data_offsets [{begin}, {end}] outside the {dataLength}-byte data section.");
        }

        long count;
        try
        {
            count = NamedTensor.CountElements(shape);
        }
        catch (OverflowException ex)
        {
            throw new InvalidDataException($"{where}: tensor '{name}' has a shape too large to hold.", ex);
        }

        var expectedBytes = count * TensorDataTypes.SizeOf(type);
        if (end - begin != expectedBytes)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"{where}: tensor '{name}' of {dtypeName} {NamedTensor.FormatShape(shape)} needs {expectedBytes} bytes but data_offsets give {end - begin}."));
        }

        return (name, type, shape, begin, end);
    }

    private static long ReadOffset(JsonElement e, string name, string where) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) && v >= 0
            ? v
            : throw new InvalidDataException($"{where}: tensor '{name}' has an invalid data offset {e.GetRawText()}.");

    private static bool TryReadExactly(Stream stream, Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer[read..]);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
