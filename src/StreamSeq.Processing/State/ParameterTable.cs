using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.State;

/// <summary>
/// The learned per-stream values of models whose streams learn their noise (spec <c>adapt</c>), as JSON Lines: one row
/// per stream, <c>{"stream": "s1", "model": "room", "steps": 1440, "learnedFrom": 1436, "parameters":
/// {"observationNoise": {"value": [[0.05]], "sd": [[0.004]]}, "components[0].levelNoise": {"value": 0.001, "sd": null}}}</c>.
/// </summary>
/// <remarks>
/// <c>streamseq run --parameters-out</c> writes one; the worker (<c>StreamSeq:Processing:ParametersFile</c>) and
/// <c>streamseq run --parameters-in</c> start new streams from one: a stream's first record starts from its row's
/// values instead of the spec's (the prior's weight stays the spec's). A stream with state to restore (changelog,
/// evicted tier) keeps what it learned; the table only seeds streams that start from nothing. A row applies to its
/// stream only while the stream routes to the row's model. In a row, a parameter is either a number/matrix or an object
/// with <c>value</c> (as written); parameters a row leaves out start from the spec.
/// </remarks>
public sealed class ParameterTable
{
    private readonly Dictionary<string, (string Model, double[] Values)> rows;

    private ParameterTable(Dictionary<string, (string Model, double[] Values)> rows)
    {
        this.rows = rows;
    }

    /// <summary>Streams with a row.</summary>
    public int Count => rows.Count;

    /// <summary>The starting values of <paramref name="streamId"/> under <paramref name="model"/> (laid out as the
    /// estimator's <see cref="EstimatorInfo.Parameters"/>), when the table has a row for it under that model.</summary>
    public bool TryGet(string streamId, ModelBinding model, out double[] values)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (rows.TryGetValue(streamId, out var row) && row.Model == model.Name)
        {
            values = row.Values;
            return true;
        }

        values = [];
        return false;
    }

    /// <summary>Reads and validates a table against the configured models.</summary>
    /// <exception cref="InvalidDataException">A row is malformed; the message names the file, the line and the field.</exception>
    public static ParameterTable Load(string path, ModelRouter models)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(models);
        if (!File.Exists(path))
        {
            throw new InvalidDataException(Directory.Exists(path) ? $"{path}: is a folder, not a parameter table." : $"{path}: parameter table not found.");
        }

        var rows = new Dictionary<string, (string, double[])>(StringComparer.Ordinal);
        var defaults = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var number = 0;
        using var input = new BufferedStream(File.OpenRead(path), 1 << 16);
        using var text = new MemoryStream();
        while (ReadLine(input, text, path, number + 1) is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                var (stream, model, values) = ReadRow(line, models, defaults);
                if (!rows.TryAdd(stream, (model, values)))
                {
                    throw new InvalidDataException($"stream '{stream}' has a row already.");
                }
            }
            catch (Exception e) when (e is InvalidDataException or JsonException or ModelValidationException)
            {
                throw new InvalidDataException($"{path}:{number}: {(e is JsonException ? $"not a JSON object ({e.Message})" : e.Message)}", e);
            }
        }

        return new ParameterTable(rows);
    }

    /// <summary>The longest row read, in bytes (a row holds one stream's parameters: far less).</summary>
    public const int MaxRowChars = 16 << 20;

    /// <summary>
    /// The next line, null at the end. Bounded and strict: a byte that is not UTF-8 used to become U+FFFD in stream ids,
    /// and a file without line breaks (a device such as <c>/dev/zero</c>) was read until memory ran out.
    /// </summary>
    private static string? ReadLine(Stream input, MemoryStream line, string path, int number)
    {
        line.SetLength(0);
        int b;
        while ((b = input.ReadByte()) >= 0 && b != '\n')
        {
            if (line.Length >= MaxRowChars)
            {
                throw new InvalidDataException($"{path}:{number}: longer than {MaxRowChars} bytes; a row is one stream's parameters on one line.");
            }

            line.WriteByte((byte)b);
        }

        if (b < 0 && line.Length == 0)
        {
            return null;
        }

        var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
        if (number == 1 && bytes.StartsWith(Utf8Text.ByteOrderMark))
        {
            bytes = bytes[Utf8Text.ByteOrderMark.Length..];
        }

        return Utf8Text.FirstInvalid(bytes) is var at and >= 0
            ? throw new InvalidDataException($"{path}:{number}: not UTF-8 text (0x{bytes[at]:X2} is not UTF-8; save the table as UTF-8).")
            : Encoding.UTF8.GetString(bytes).TrimEnd('\r');
    }

    /// <summary>Writes a row per stream whose model learns parameters, in stream-id order; returns how many.</summary>
    public static int Write(Stream output, IEnumerable<StreamState> streams)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(streams);
        using var json = new Utf8JsonWriter(output, OutputRecordWriter.JsonOptions);
        var newline = "\n"u8.ToArray();
        var written = 0;
        foreach (var state in streams.OrderBy(s => s.StreamId, StringComparer.Ordinal))
        {
            var estimator = state.Model.Estimator;
            var info = estimator.Info;
            if (info.Parameters.Count == 0 || estimator is not IParameterLearner learner)
            {
                continue;
            }

            var values = new double[info.ParametersLength];
            var deviations = new double[info.ParametersLength];
            learner.ReadParameters(state.Buffer, values, deviations);
            json.WriteStartObject();
            json.WriteString("stream", state.StreamId);
            json.WriteString("model", state.Model.Name);
            json.WriteNumber("steps", state.Steps);
            json.WriteNumber("learnedFrom", learner.ReadingsLearned(state.Buffer));
            json.WritePropertyName("parameters");
            json.WriteStartObject();
            var offset = 0;
            foreach (var parameter in info.Parameters)
            {
                json.WritePropertyName(parameter.Name);
                json.WriteStartObject();
                json.WritePropertyName("value");
                Value(json, parameter, values.AsSpan(offset, parameter.Length));
                json.WritePropertyName("sd");
                Value(json, parameter, deviations.AsSpan(offset, parameter.Length));
                json.WriteEndObject();
                offset += parameter.Length;
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.Flush();
            output.Write(newline);
            json.Reset();
            written++;
        }

        return written;
    }

    private static void Value(Utf8JsonWriter json, LearnedParameter parameter, ReadOnlySpan<double> values)
    {
        if (!parameter.IsMatrix)
        {
            Number(json, values[0]);
            return;
        }

        json.WriteStartArray();
        for (var i = 0; i < parameter.Rows; i++)
        {
            json.WriteStartArray();
            for (var j = 0; j < parameter.Columns; j++)
            {
                Number(json, values[(i * parameter.Columns) + j]);
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
    }

    private static void Number(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    private static (string Stream, string Model, double[] Values) ReadRow(string line, ModelRouter models, Dictionary<string, double[]> defaults)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (Utf8Text.FirstNonUnicode(root) is { } notText)
        {
            // Such a string threw InvalidOperationException out of Load (a crash of run or of the worker's start).
            throw new InvalidDataException($"{notText} is not Unicode text (an unpaired surrogate escape such as \\ud800).");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("a row must be a JSON object.");
        }

        var stream = Text(root, "stream");
        var modelName = Text(root, "model");
        if (!models.Models.TryGetValue(modelName, out var model))
        {
            throw new InvalidDataException($"model '{modelName}' is not configured (configured: {string.Join(", ", models.Models.Keys)}).");
        }

        var info = model.Estimator.Info;
        if (info.Parameters.Count == 0 || model.Estimator is not IParameterLearner learner)
        {
            throw new InvalidDataException($"model '{modelName}' learns no parameters (its spec has no adapt).");
        }

        if (!root.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("parameters: is required (an object of learned values by name).");
        }

        if (!defaults.TryGetValue(modelName, out var start))
        {
            var fresh = new double[info.StateLength];
            model.Estimator.Initialize(fresh, 0);
            start = new double[info.ParametersLength];
            learner.ReadParameters(fresh, start, new double[info.ParametersLength]);
            defaults[modelName] = start;
        }

        var values = (double[])start.Clone();
        foreach (var property in parameters.EnumerateObject())
        {
            var offset = 0;
            LearnedParameter? target = null;
            foreach (var parameter in info.Parameters)
            {
                if (parameter.Name == property.Name)
                {
                    target = parameter;
                    break;
                }

                offset += parameter.Length;
            }

            if (target is null)
            {
                throw new InvalidDataException($"parameters.{property.Name}: model '{modelName}' does not learn it (it learns {string.Join(", ", info.Parameters.Select(p => p.Name))}).");
            }

            var value = property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("value", out var v) ? v : property.Value;
            Read(value, target, $"parameters.{property.Name}", values.AsSpan(offset, target.Length));
        }

        // The estimator checks the values as it would start a stream from them.
        var check = new double[info.StateLength];
        model.Estimator.Initialize(check, 0);
        try
        {
            learner.StartFrom(check, values);
        }
        catch (ModelValidationException e)
        {
            throw new InvalidDataException($"parameters.{e.Field}: {e.Problem}", e);
        }

        return (stream, modelName, values);
    }

    private static void Read(JsonElement value, LearnedParameter parameter, string field, Span<double> target)
    {
        if (!parameter.IsMatrix)
        {
            target[0] = Finite(value, field);
            return;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != parameter.Rows)
        {
            throw new InvalidDataException($"{field}: must be a {parameter.Rows}x{parameter.Columns} matrix (an array of rows).");
        }

        var i = 0;
        foreach (var row in value.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != parameter.Columns)
            {
                throw new InvalidDataException($"{field}[{i}]: must be a row of {parameter.Columns} numbers.");
            }

            var j = 0;
            foreach (var cell in row.EnumerateArray())
            {
                target[(i * parameter.Columns) + j] = Finite(cell, $"{field}[{i}][{j}]");
                j++;
            }

            i++;
        }
    }

    private static double Finite(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d)
            ? d
            : throw new InvalidDataException($"{field}: must be a finite number, got {Describe(value)}.");

    private static string Text(JsonElement root, string field) =>
        root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(v.GetString())
            ? v.GetString()!
            : throw new InvalidDataException($"{field}: is required (a non-empty string).");

    private static string Describe(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length > 40 ? string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetByteCount(raw)} bytes of {value.ValueKind.ToString().ToLowerInvariant()}") : raw;
    }
}
