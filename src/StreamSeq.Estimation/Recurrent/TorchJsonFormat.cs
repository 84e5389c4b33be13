using System.Globalization;
using System.Text.Json;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// Reads JSON weight dumps of the form <c>{"tensors": {"weight_ih_l0": {"shape": [32, 3], "values": [[...], ...]}, ...}}</c>:
/// each tensor's values as nested lists in PyTorch (row-major) layout. Other top-level fields are ignored.
/// </summary>
/// <remarks>
/// Values are held as F64, so decimals written from float32 weights keep their exact value. Non-finite values may
/// be written as the strings <c>"NaN"</c>, <c>"Infinity"</c> and <c>"-Infinity"</c>.
/// </remarks>
public static class TorchJsonFormat
{
    /// <summary>Reads a JSON weight dump file.</summary>
    /// <param name="path">The file path.</param>
    /// <returns>The tensors in file order; <see cref="StateDictionary.Source"/> is the path.</returns>
    /// <exception cref="InvalidDataException">The file does not have the expected structure; the message names the
    /// tensor and the problem.</exception>
    public static StateDictionary ReadFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads a JSON weight dump from a stream.</summary>
    /// <param name="stream">The stream holding the JSON document.</param>
    /// <param name="source">A name for the content, quoted in error messages.</param>
    /// <returns>The tensors in document order.</returns>
    /// <exception cref="InvalidDataException">The document does not have the expected structure.</exception>
    public static StateDictionary Read(Stream stream, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var where = source is null ? "JSON weights" : $"JSON weights '{source}'";
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{where}: not valid JSON ({ex.Message}).", ex);
        }

        using (doc)
        {
            if (Utf8Text.FirstNonUnicode(doc.RootElement) is { } notText)
            {
                throw new InvalidDataException($"{where}: {notText} is not Unicode text (not UTF-8, or an unpaired surrogate escape such as \\ud800).");
            }

            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("tensors", out var tensorsElement)
                || tensorsElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{where}: expected a top-level object with a \"tensors\" object.");
            }

            var tensors = new List<NamedTensor>();
            foreach (var p in tensorsElement.EnumerateObject())
            {
                tensors.Add(ParseTensor(p.Name, p.Value, where));
            }

            return Dictionary(tensors, null, source, where);
        }
    }

    /// <summary>
    /// The tensors as a dictionary; a name given twice is the file's fault (<see cref="InvalidDataException"/>), where
    /// the dictionary's <see cref="ArgumentException"/> used to escape.
    /// </summary>
    internal static StateDictionary Dictionary(List<NamedTensor> tensors, Dictionary<string, string>? metadata, string? source, string where)
    {
        try
        {
            return new StateDictionary(tensors, metadata, source);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }
    }

    /// <summary>The number of elements of <paramref name="shape"/>, when an array can hold them.</summary>
    internal static int Elements(int[] shape, string name, string where)
    {
        long count;
        try
        {
            count = NamedTensor.CountElements(shape);
        }
        catch (OverflowException e)
        {
            throw new InvalidDataException($"{where}: tensor '{name}' has a shape too large to hold.", e);
        }

        return count <= Array.MaxLength ? (int)count : throw new InvalidDataException($"{where}: tensor '{name}' has a shape too large to hold.");
    }

    private static NamedTensor ParseTensor(string name, JsonElement element, string where)
    {
        if (name.Length == 0)
        {
            // NamedTensor's ArgumentException used to escape.
            throw new InvalidDataException($"{where}: a tensor has an empty name.");
        }

        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !element.TryGetProperty("values", out var valuesElement))
        {
            throw new InvalidDataException($"{where}: tensor '{name}' needs \"shape\" (array) and \"values\".");
        }

        var shape = new int[shapeElement.GetArrayLength()];
        var k = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var dim) || dim < 0)
            {
                throw new InvalidDataException($"{where}: tensor '{name}' has an invalid dimension {d.GetRawText()}.");
            }

            shape[k++] = dim;
        }

        // The nested lists are checked against the shape before anything is allocated: a few bytes declaring a shape of
        // a billion elements are an error naming the tensor, not gigabytes of zeros.
        var length = Elements(shape, name, where);
        var count = 0;
        Flatten(valuesElement, shape, 0, null, ref count, name, where);
        var values = new double[length];
        count = 0;
        Flatten(valuesElement, shape, 0, values, ref count, name, where);
        return NamedTensor.Create<double>(name, shape, values);
    }

    /// <summary>Copies the nested lists into <paramref name="values"/>, or only checks them when it is null.</summary>
    private static void Flatten(JsonElement e, int[] shape, int depth, double[]? values, ref int count, string name, string where)
    {
        if (depth == shape.Length)
        {
            var value = ParseNumber(e, name, where);
            if (values is not null)
            {
                values[count] = value;
            }

            count++;
            return;
        }

        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != shape[depth])
        {
            throw new InvalidDataException(
                $"{where}: tensor '{name}' values do not match shape {NamedTensor.FormatShape(shape)} at depth {depth} (expected a list of {shape[depth]}).");
        }

        foreach (var item in e.EnumerateArray())
        {
            Flatten(item, shape, depth + 1, values, ref count, name, where);
        }
    }

    private static double ParseNumber(JsonElement e, string name, string where)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            return e.GetDouble();
        }

        if (e.ValueKind == JsonValueKind.String)
        {
            switch (e.GetString())
            {
                case "NaN": return double.NaN;
                case "Infinity": return double.PositiveInfinity;
                case "-Infinity": return double.NegativeInfinity;
            }
        }

        throw new InvalidDataException(
            string.Create(CultureInfo.InvariantCulture, $"{where}: tensor '{name}' has a non-numeric value {e.GetRawText()}."));
    }
}
