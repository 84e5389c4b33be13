using System.Globalization;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Specs;

/// <summary>
/// A parsed model spec: the fields every kind shares (<c>name</c>, <c>kind</c>, <c>timeUnit</c>,
/// <c>forecastStep</c>, <c>seed</c>, <c>description</c>) and the kind's own fields in <see cref="Json"/>.
/// </summary>
public sealed class ModelSpec
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,

        // A field given twice is a mistake to report, not a choice between two values.
        AllowDuplicateProperties = false,
    };

    private ModelSpec(JsonElement json, string name, string kind, TimeSpan timeUnit, double forecastStep, ulong seed, string? baseDirectory)
    {
        Json = json;
        BaseDirectory = baseDirectory;
        Name = name;
        Kind = kind;
        TimeUnit = timeUnit;
        ForecastStep = forecastStep;
        Seed = seed;
    }

    /// <summary>Fields shared by all kinds.</summary>
    /// <remarks>
    /// <c>anomalyRules</c> and <c>alertGate</c> configure the processor's anomaly rules for the model, and <c>fit</c>
    /// carries the result of <c>streamseq fit</c>; estimators ignore all three.
    /// </remarks>
    public static IReadOnlyList<string> CommonFields { get; } = ["name", "kind", "timeUnit", "forecastStep", "seed", "description", "anomalyRules", "alertGate", "fit"];

    /// <summary>The shared fields as a <see cref="SpecShape"/> (the root of every kind's declaration).</summary>
    public static SpecShape CommonShape { get; } = SpecShape.Of([.. CommonFields]);

    /// <summary>The whole spec.</summary>
    public JsonElement Json { get; }

    /// <summary>The model's name, written into output records.</summary>
    public string Name { get; }

    /// <summary>The catalog kind.</summary>
    public string Kind { get; }

    /// <summary>Wall-clock length of one model time unit (ISO-8601 and epoch-ms times are divided by it). Default 1 s.</summary>
    public TimeSpan TimeUnit { get; }

    /// <summary>Model time between forecast horizons. Default 1.</summary>
    public double ForecastStep { get; }

    /// <summary>Model seed mixed with the stream id for estimators that draw random numbers.</summary>
    public ulong Seed { get; }

    /// <summary>
    /// The folder that relative file paths in the spec (such as recurrent <c>weights</c>) are resolved against: the
    /// spec file's folder for <see cref="Load"/>, otherwise what the caller passed (null: the current directory).
    /// </summary>
    public string? BaseDirectory { get; }

    /// <summary>Parses a spec from JSON text; <paramref name="source"/> (a file name) prefixes error messages.</summary>
    /// <param name="json">The spec.</param>
    /// <param name="source">Where the text came from, for error messages.</param>
    /// <param name="baseDirectory">The folder relative file paths in the spec are resolved against (null: the current
    /// directory).</param>
    public static ModelSpec Parse(string json, string source = "model", string? baseDirectory = null)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new ModelValidationException(source, "is empty (a model spec is a JSON object with at least name and kind).");
        }

        try
        {
            using var doc = ParseDocument(json, source);

            // Checked once here: such a string throws InvalidOperationException wherever it is read or compared later.
            if (Utf8Text.FirstNonUnicode(doc.RootElement) is { } notText)
            {
                throw new ModelValidationException(source, $"{notText} is not Unicode text (an unpaired surrogate escape such as \\ud800).");
            }

            return FromElement(doc.RootElement.Clone(), baseDirectory);
        }
        catch (JsonException e)
        {
            throw new ModelValidationException(source, $"is not valid JSON{JsonMessages.Location(e)}: {JsonMessages.Problem(e)}");
        }
    }

    private static JsonDocument ParseDocument(string json, string source)
    {
        try
        {
            return JsonDocument.Parse(json, DocumentOptions);
        }
        catch (ArgumentException)
        {
            // Text given as a string (not read from a file, which must be UTF-8) can hold a lone surrogate character.
            throw new ModelValidationException(source, "is not Unicode text (it holds an unpaired surrogate character).");
        }
        catch (InvalidOperationException)
        {
            // The check for fields given twice reads every field name, and throws this (not JsonException) for one that
            // is not Unicode text; read again without that check to say which.
            using var again = JsonDocument.Parse(json, DocumentOptions with { AllowDuplicateProperties = true });
            var where = Utf8Text.FirstNonUnicode(again.RootElement) ?? "a field name";
            throw new ModelValidationException(source, $"{where} is not Unicode text (an unpaired surrogate escape such as \\ud800).");
        }
    }

    /// <summary>Reads a spec file.</summary>
    public static ModelSpec Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelValidationException(path, Directory.Exists(path) ? "is a folder, not a model file." : "model file not found.");
        }

        return Parse(ReadFile(path, path), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>The largest spec file read, in bytes (a recurrent spec with its weights inline stays far below it).</summary>
    public const int MaxFileBytes = 64 << 20;

    /// <summary>
    /// The text of a spec file, which must be UTF-8 (a byte that is not, such as Latin-1's 'é', used to become U+FFFD
    /// in names and strings without a word) and at most <see cref="MaxFileBytes"/> (a path to a device such as
    /// <c>/dev/zero</c> used to read until the process ran out of memory).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="source">How errors name it.</param>
    public static string ReadFile(string path, string source)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + read > MaxFileBytes)
                {
                    throw new ModelValidationException(source, $"is larger than {MaxFileBytes >> 20} MiB; a model spec file is a JSON object of a model's fields.");
                }

                buffer.Write(chunk, 0, read);
            }

            bytes = buffer.ToArray();
        }

        var start = bytes.AsSpan().StartsWith(Utf8Text.ByteOrderMark) ? Utf8Text.ByteOrderMark.Length : 0;
        var text = bytes.AsSpan(start);
        return Utf8Text.Problem(text, start) is { } problem
            ? throw new ModelValidationException(source, $"is not UTF-8 text: {problem} (save the file as UTF-8).")
            : System.Text.Encoding.UTF8.GetString(text);
    }

    /// <summary>Reads the shared fields of a spec object.</summary>
    /// <param name="json">The spec object.</param>
    /// <param name="baseDirectory">The folder relative file paths in the spec are resolved against (null: the current
    /// directory).</param>
    public static ModelSpec FromElement(JsonElement json, string? baseDirectory = null)
    {
        var reader = new SpecReader(json);
        var name = reader.String("name");
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ModelValidationException("name", "must not be empty.");
        }

        var kind = reader.String("kind");
        var unitText = reader.OptionalString("timeUnit");
        var unit = unitText is null ? TimeSpan.FromSeconds(1) : ParseDuration("timeUnit", unitText);
        var step = reader.Number("forecastStep", 1.0);
        if (!(step > 0.0))
        {
            throw new ModelValidationException("forecastStep", $"must be positive, got {step}.");
        }

        var seed = reader.UnsignedInteger("seed", 0UL);
        return new ModelSpec(json, name, kind, unit, step, seed, baseDirectory);
    }

    /// <summary>A reader over the kind-specific fields (the shared ones are already known).</summary>
    public SpecReader Reader()
    {
        var declared = ModelCatalog.Find(Kind)?.Fields;
        var reader = new SpecReader(Json) { BaseDirectory = BaseDirectory, Shape = declared is null ? null : CommonShape.With(declared) };
        reader.Allow([.. CommonFields]);
        return reader;
    }

    /// <summary>
    /// Parses a duration: ISO-8601 (<c>PT1M</c>, <c>P1D</c>), a .NET time span (<c>00:01:00</c>) or a number with a unit
    /// suffix (<c>250ms</c>, <c>1s</c>, <c>5m</c>, <c>1h</c>, <c>1d</c>).
    /// </summary>
    public static TimeSpan ParseDuration(string field, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        TimeSpan result;
        if (t.StartsWith('P') || t.StartsWith('p'))
        {
            try
            {
                result = System.Xml.XmlConvert.ToTimeSpan(t.ToUpperInvariant());
            }
            catch (FormatException)
            {
                throw new ModelValidationException(field, $"'{text}' is not an ISO-8601 duration.");
            }
            catch (OverflowException)
            {
                throw new ModelValidationException(field, $"'{text}' is too long a duration.");
            }
        }
        else if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var ts) && t.Contains(':', StringComparison.Ordinal))
        {
            result = ts;
        }
        else
        {
            var units = new (string Suffix, double Ms)[] { ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000) };
            result = TimeSpan.Zero;
            var matched = false;
            foreach (var (suffix, ms) in units)
            {
                if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                    && double.TryParse(t[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    if (!(Math.Abs(value * ms) < TimeSpan.MaxValue.TotalMilliseconds))
                    {
                        throw new ModelValidationException(field, $"'{text}' is too long a duration.");
                    }

                    result = TimeSpan.FromMilliseconds(value * ms);
                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                throw new ModelValidationException(field, $"'{text}' is not a duration (use PT1M, 00:01:00 or 60s).");
            }
        }

        if (result <= TimeSpan.Zero)
        {
            throw new ModelValidationException(field, $"must be a positive duration, got '{text}'.");
        }

        return result;
    }
}
