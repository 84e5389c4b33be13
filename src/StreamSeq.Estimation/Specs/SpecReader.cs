using System.Globalization;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Specs;

/// <summary>
/// Reads a JSON model spec with field paths in every error, and rejects fields nobody read (typos fail loudly
/// instead of silently falling back to defaults).
/// </summary>
/// <remarks>
/// With a <see cref="Shape"/> (the kind's declaration, see <see cref="SpecShape"/>), an unknown-field error lists every
/// field the object accepts, and reading a field the shape does not declare throws
/// <see cref="InvalidOperationException"/> (a reader and its declaration out of step is a bug, not a user error).
/// Nested readers take the nested shapes.
/// </remarks>
public sealed class SpecReader
{
    private readonly JsonElement element;
    private readonly HashSet<string> consumed = new(StringComparer.Ordinal);
    private readonly List<SpecReader> children = [];

    /// <summary>Wraps a JSON object found at <paramref name="path"/> ("" for the root).</summary>
    public SpecReader(JsonElement element, string path = "")
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ModelValidationException(string.IsNullOrEmpty(path) ? "model" : path, $"must be a JSON object, got {Describe(element)}.");
        }

        this.element = element;
        Path = path;
    }

    /// <summary>This object's path in the spec.</summary>
    public string Path { get; }

    /// <summary>The underlying JSON.</summary>
    public JsonElement Element => element;

    /// <summary>The folder relative file paths are resolved against (null: the current directory); nested readers
    /// inherit it. See <see cref="ModelSpec.BaseDirectory"/>.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>The fields this object accepts (null: whatever the kind reads).</summary>
    public SpecShape? Shape { get; init; }

    /// <summary>The path of a field of this object.</summary>
    public string FieldPath(string name) => string.IsNullOrEmpty(Path) ? name : $"{Path}.{name}";

    /// <summary>True when the field is present and not null.</summary>
    public bool Has(string name) => element.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>Marks fields as known without reading them (handled elsewhere).</summary>
    public void Allow(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (var n in names)
        {
            consumed.Add(n);
        }
    }

    /// <summary>A required string.</summary>
    public string String(string name) => OptionalString(name) ?? throw Missing(name, "a string");

    /// <summary>An optional string.</summary>
    public string? OptionalString(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(name, "a string", v);
    }

    /// <summary>A required file path, resolved against <see cref="BaseDirectory"/> when relative.</summary>
    public string FilePath(string name)
    {
        var written = String(name);
        if (written.Contains('\0', StringComparison.Ordinal))
        {
            // No file name holds one; resolving it threw an ArgumentException, reported as a bug.
            throw Error(name, "contains a NUL character, which no file path can hold.");
        }

        var path = ResolvePath(written);
        Files.Add(path);
        return path;
    }

    /// <summary>Every file this reader or its children resolved through <see cref="FilePath"/> (weights, graphs).</summary>
    public List<string> Files { get; private init; } = [];

    /// <summary>Resolves a path written in the spec against <see cref="BaseDirectory"/> when it is relative.</summary>
    public string ResolvePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.GetFullPath(System.IO.Path.Combine(BaseDirectory ?? Directory.GetCurrentDirectory(), path));
    }

    /// <summary>A required finite number.</summary>
    public double Number(string name) => TryGet(name, out var v) ? ToNumber(name, v) : throw Missing(name, "a number");

    /// <summary>An optional finite number.</summary>
    public double Number(string name, double fallback) => TryGet(name, out var v) ? ToNumber(name, v) : fallback;

    /// <summary>A required integer.</summary>
    public int Integer(string name) => TryGet(name, out var v) ? ToInteger(name, v) : throw Missing(name, "an integer");

    /// <summary>An optional integer.</summary>
    public int Integer(string name, int fallback) => TryGet(name, out var v) ? ToInteger(name, v) : fallback;

    /// <summary>An optional whole number from 0 to 2^64 − 1 (a seed): no sign, fraction or exponent.</summary>
    public ulong UnsignedInteger(string name, ulong fallback)
    {
        if (!TryGet(name, out var v))
        {
            return fallback;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out var u) ? u : throw Wrong(name, "an integer from 0 to 18446744073709551615", v);
    }

    /// <summary>An optional boolean.</summary>
    public bool Boolean(string name, bool fallback)
    {
        if (!TryGet(name, out var v))
        {
            return fallback;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(name, "true or false", v),
        };
    }

    /// <summary>A required vector of finite numbers.</summary>
    public double[] Vector(string name, int? length = null) =>
        OptionalVector(name, length) ?? throw Missing(name, length is null ? "an array of numbers" : $"an array of {length} numbers");

    /// <summary>An optional vector of finite numbers.</summary>
    public double[]? OptionalVector(string name, int? length = null)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Wrong(name, "an array of numbers", v);
        }

        var result = new double[v.GetArrayLength()];
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            result[i] = ToNumber($"{name}[{i}]", item);
            i++;
        }

        if (length is int expected && result.Length != expected)
        {
            throw new ModelValidationException(FieldPath(name), $"must have {expected} entries, got {result.Length}.");
        }

        return result;
    }

    /// <summary>A required matrix (array of equal-length rows), returned row-major with its shape.</summary>
    public (double[] Values, int Rows, int Columns) Matrix(string name, int? rows = null, int? columns = null) =>
        OptionalMatrix(name, rows, columns) ?? throw Missing(name, "a matrix (an array of rows)");

    /// <summary>An optional matrix.</summary>
    public (double[] Values, int Rows, int Columns)? OptionalMatrix(string name, int? rows = null, int? columns = null)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() == 0)
        {
            throw Wrong(name, "a non-empty array of rows", v);
        }

        var r = v.GetArrayLength();
        var values = new List<double>();
        var c = -1;
        var i = 0;
        foreach (var row in v.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
            {
                throw new ModelValidationException($"{FieldPath(name)}[{i}]", $"must be an array of numbers (a matrix row), got {Describe(row)}.");
            }

            var len = row.GetArrayLength();
            if (c >= 0 && len != c)
            {
                throw new ModelValidationException($"{FieldPath(name)}[{i}]", $"has {len} entries but row 0 has {c}; every row needs the same length.");
            }

            c = len;
            var j = 0;
            foreach (var item in row.EnumerateArray())
            {
                values.Add(ToNumber($"{name}[{i}][{j}]", item));
                j++;
            }

            i++;
        }

        if ((rows is int er && er != r) || (columns is int ec && ec != c))
        {
            throw new ModelValidationException(FieldPath(name), $"must be {rows?.ToString(CultureInfo.InvariantCulture) ?? "?"}x{columns?.ToString(CultureInfo.InvariantCulture) ?? "?"}, got {r}x{c}.");
        }

        return ([.. values], r, c);
    }

    /// <summary>An optional array of strings (null when absent).</summary>
    public IReadOnlyList<string>? OptionalStrings(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Wrong(name, "an array of strings", v);
        }

        var list = new List<string>();
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new ModelValidationException($"{FieldPath(name)}[{i}]", $"must be a string, got {Describe(item)}.");
            }

            list.Add(item.GetString()!);
            i++;
        }

        return list;
    }

    /// <summary>A required nested object.</summary>
    public SpecReader Object(string name) => OptionalObject(name) ?? throw Missing(name, "an object");

    /// <summary>An optional nested object.</summary>
    public SpecReader? OptionalObject(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }

        var child = new SpecReader(v, FieldPath(name)) { BaseDirectory = BaseDirectory, Files = Files, Shape = Shape?.NestedFor(element, name) };
        children.Add(child);
        return child;
    }

    /// <summary>A required array of objects.</summary>
    public IReadOnlyList<SpecReader> Objects(string name)
    {
        if (!TryGet(name, out var v))
        {
            throw Missing(name, "an array of objects");
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Wrong(name, "an array of objects", v);
        }

        var list = new List<SpecReader>();
        var itemShape = Shape?.NestedFor(element, name);
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            var child = new SpecReader(item, $"{FieldPath(name)}[{i++}]") { BaseDirectory = BaseDirectory, Files = Files, Shape = itemShape };
            children.Add(child);
            list.Add(child);
        }

        return list;
    }

    /// <summary>Throws for the first field of this object or a nested one that nobody read.</summary>
    public void EnsureAllFieldsKnown()
    {
        foreach (var p in element.EnumerateObject())
        {
            if (!consumed.Contains(p.Name))
            {
                throw UnknownField(p.Name);
            }
        }

        foreach (var c in children)
        {
            c.EnsureAllFieldsKnown();
        }
    }

    /// <summary>
    /// The first field of this object, or of a nested object read so far, that its shape does not declare, as the error
    /// <see cref="EnsureAllFieldsKnown"/> gives for it; null when every such field is declared or there is no shape.
    /// Unlike <see cref="EnsureAllFieldsKnown"/> it does not depend on what was read, so it is right even when reading
    /// stopped at an error part-way.
    /// </summary>
    internal ModelValidationException? UndeclaredField()
    {
        if (Shape is { } shape)
        {
            var accepted = shape.FieldsFor(element);
            foreach (var p in element.EnumerateObject())
            {
                if (!accepted.Contains(p.Name, StringComparer.Ordinal))
                {
                    return UnknownField(p.Name);
                }
            }
        }

        foreach (var c in children)
        {
            if (c.UndeclaredField() is { } nested)
            {
                return nested;
            }
        }

        return null;
    }

    /// <summary>The fields this object accepts, sorted: the declared ones for its variant, or (without a shape) those read
    /// so far.</summary>
    public IReadOnlyList<string> KnownFields() =>
        [.. (Shape?.FieldsFor(element) ?? (IEnumerable<string>)consumed).Order(StringComparer.Ordinal)];

    /// <summary>An error about a field of this object.</summary>
    public ModelValidationException Error(string name, string problem) => new(FieldPath(name), problem);

    private bool TryGet(string name, out JsonElement value)
    {
        if (Shape is { } shape && !shape.FieldsFor(element).Contains(name, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"The reader of '{(string.IsNullOrEmpty(Path) ? "the spec" : Path)}' reads '{name}', which its kind does not declare (SpecShape).");
        }

        consumed.Add(name);
        if (element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    private double ToNumber(string name, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d))
        {
            throw Wrong(name, "a finite number", v);
        }

        return d;
    }

    private int ToInteger(string name, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i))
        {
            throw Wrong(name, "an integer", v);
        }

        return i;
    }

    private ModelValidationException UnknownField(string name) =>
        new(FieldPath(name), $"is not a known field here (known: {string.Join(", ", KnownFields())}).");

    private ModelValidationException Missing(string name, string what) =>
        new(FieldPath(name), $"is required ({what}).");

    private ModelValidationException Wrong(string name, string what, JsonElement v) =>
        new(FieldPath(name), $"must be {what}, got {Describe(v)}.");

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{v.GetString()}\"",
        JsonValueKind.Number => $"the number {v.GetRawText()}",
        JsonValueKind.Array => $"an array of {v.GetArrayLength()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
        _ => v.ValueKind.ToString().ToLowerInvariant(),
    };
}
