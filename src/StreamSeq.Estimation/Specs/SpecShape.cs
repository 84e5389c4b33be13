using System.Collections.Frozen;
using System.Text.Json;

namespace StreamSeq.Estimation.Specs;

/// <summary>
/// The fields one JSON object of a model spec accepts: the names, the shapes of nested objects (and of the items of
/// arrays of objects), and, where a discriminator such as <c>type</c> selects a variant, the extra fields of each
/// variant.
/// </summary>
/// <remarks>
/// Each <see cref="IModelKind"/> declares its shape next to the code that reads it. <see cref="SpecReader"/> uses the
/// declaration twice: an unknown-field error lists every field the object accepts (not only those read before the
/// error), and reading a field the shape does not declare is a programming error, so the declaration cannot fall
/// behind the reader. The model-spec reference (docs/model-specs.md) and the JSON Schema are tested against the
/// declarations.
/// </remarks>
public sealed class SpecShape
{
    private static readonly FrozenDictionary<string, SpecShape> NoNested = FrozenDictionary<string, SpecShape>.Empty;

    private readonly FrozenDictionary<string, SpecShape> nested;
    private readonly FrozenDictionary<string, SpecShape> variants;

    private SpecShape(
        IReadOnlyList<string> fields,
        FrozenDictionary<string, SpecShape> nested,
        string? discriminator,
        FrozenDictionary<string, SpecShape> variants,
        string? defaultVariant)
    {
        Fields = fields;
        this.nested = nested;
        Discriminator = discriminator;
        this.variants = variants;
        DefaultVariant = defaultVariant;
    }

    /// <summary>Fields accepted whatever the variant (the discriminator included).</summary>
    public IReadOnlyList<string> Fields { get; }

    /// <summary>Shapes of nested objects, or of the items of arrays of objects, by field name.</summary>
    public IReadOnlyDictionary<string, SpecShape> Nested => nested;

    /// <summary>The field whose value selects a variant (for example <c>type</c>), or null.</summary>
    public string? Discriminator { get; }

    /// <summary>The variants by discriminator value; each adds its own fields and nested shapes.</summary>
    public IReadOnlyDictionary<string, SpecShape> Variants => variants;

    /// <summary>The variant that applies when the discriminator is absent, or null when it is required.</summary>
    public string? DefaultVariant { get; }

    /// <summary>For a map (an object whose keys are names the user chooses, such as NAB profile names), the shape of
    /// every value; null for an ordinary object.</summary>
    public SpecShape? MapValue { get; private init; }

    /// <summary>A map: any key, each value an object of <paramref name="value"/>.</summary>
    public static SpecShape MapOf(SpecShape value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new SpecShape([], NoNested, null, FrozenDictionary<string, SpecShape>.Empty, null) { MapValue = value };
    }

    /// <summary>An object accepting exactly <paramref name="fields"/>.</summary>
    public static SpecShape Of(params string[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return new SpecShape([.. fields.Distinct(StringComparer.Ordinal)], NoNested, null, FrozenDictionary<string, SpecShape>.Empty, null);
    }

    /// <summary>This shape plus a field holding an object (or an array of objects) of <paramref name="shape"/>.</summary>
    public SpecShape Nest(string field, SpecShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var all = new Dictionary<string, SpecShape>(nested, StringComparer.Ordinal) { [field] = shape };
        return new SpecShape(Add(Fields, [field]), all.ToFrozenDictionary(StringComparer.Ordinal), Discriminator, variants, DefaultVariant);
    }

    /// <summary>This shape plus the fields and nested shapes of <paramref name="other"/> (which has no variants).</summary>
    public SpecShape With(SpecShape other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Discriminator is not null)
        {
            throw new ArgumentException("Only a shape without variants can be merged into another.", nameof(other));
        }

        var all = new Dictionary<string, SpecShape>(nested, StringComparer.Ordinal);
        foreach (var (name, shape) in other.nested)
        {
            all[name] = shape;
        }

        return new SpecShape(Add(Fields, other.Fields), all.ToFrozenDictionary(StringComparer.Ordinal), Discriminator, variants, DefaultVariant);
    }

    /// <summary>This shape with variants selected by the string field <paramref name="discriminator"/>.</summary>
    /// <param name="discriminator">The selecting field (added to <see cref="Fields"/>).</param>
    /// <param name="defaultVariant">The variant that applies when the field is absent (null: it is required).</param>
    /// <param name="choices">Each value with the fields it adds.</param>
    public SpecShape WithVariants(string discriminator, string? defaultVariant, params (string Value, SpecShape Shape)[] choices)
    {
        ArgumentNullException.ThrowIfNull(choices);
        return new SpecShape(
            Add(Fields, [discriminator]),
            nested,
            discriminator,
            choices.ToFrozenDictionary(v => v.Value, v => v.Shape, StringComparer.Ordinal),
            defaultVariant);
    }

    /// <summary>The variant that applies to <paramref name="element"/>, or null (no variants, or an unknown value).</summary>
    public SpecShape? VariantOf(JsonElement element)
    {
        if (Discriminator is null)
        {
            return null;
        }

        string? value;
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(Discriminator, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            value = DefaultVariant;
        }
        else
        {
            value = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        }

        return value is not null && Variants.TryGetValue(value, out var variant) ? variant : null;
    }

    /// <summary>Every field <paramref name="element"/> may carry: the common ones and those of its variant.</summary>
    public IReadOnlyList<string> FieldsFor(JsonElement element)
    {
        if (MapValue is not null)
        {
            return element.ValueKind == JsonValueKind.Object ? [.. element.EnumerateObject().Select(p => p.Name)] : [];
        }

        return VariantOf(element) is { } variant ? Add(Fields, variant.FieldsFor(element)) : Fields;
    }

    /// <summary>The shape of the nested object (or array items) <paramref name="field"/> of <paramref name="element"/>.</summary>
    public SpecShape? NestedFor(JsonElement element, string field)
    {
        if (MapValue is not null)
        {
            return MapValue;
        }

        if (VariantOf(element) is { } variant && variant.NestedFor(element, field) is { } own)
        {
            return own;
        }

        return nested.TryGetValue(field, out var shape) ? shape : null;
    }

    /// <summary>Every field this shape can accept under any variant (for documentation checks).</summary>
    public IEnumerable<string> AllFields() =>
        Fields.Concat(variants.Values.SelectMany(v => v.AllFields())).Distinct(StringComparer.Ordinal);

    private static string[] Add(IReadOnlyList<string> first, IEnumerable<string> second) =>
        [.. first.Concat(second).Distinct(StringComparer.Ordinal)];
}
