using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Specs;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Schemas;

/// <summary>
/// docs/model-specs.md and schemas/model-spec.schema.json against what the loader accepts: every field each kind
/// declares (its <see cref="SpecShape"/>, which the reader cannot read past) has a row in the kind's section of the
/// reference and a property in the kind's schema branch, and every spec on that page, in the README and in examples/
/// validates against the schema and loads.
/// </summary>
public sealed partial class ModelSpecReferenceTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(RepositoryFiles.Path("schemas", "model-spec.schema.json")).Replace("model-spec.schema.json", "model-spec-reference.schema.json", StringComparison.Ordinal)));

    static ModelSpecReferenceTests() => ModelCatalog.Register(new OnnxRecurrentKind());

    public static TheoryData<string> Kinds() => [.. ModelCatalog.All.Where(k => k.GetType().Namespace!.StartsWith("StreamSeq.Estimation", StringComparison.Ordinal)).Select(k => k.Kind)];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Reference_EveryFieldTheKindAccepts_HasARowInItsSection(string kind)
    {
        var doc = Reference.Value;
        Assert.True(doc.Sections.ContainsKey(kind), $"docs/model-specs.md has no section '## `{kind}`'");
        var missing = new List<string>();
        foreach (var (path, variant) in Declared(kind))
        {
            if (!Documented(doc, kind, path, variant, []))
            {
                missing.Add(variant is null ? path : $"{path} (for `{variant}`)");
            }
        }

        Assert.True(missing.Count == 0, $"docs/model-specs.md, section `{kind}`, has no row for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Reference_SharedFields_HaveRows()
    {
        var shared = Reference.Value.Sections["Fields every kind shares"];
        foreach (var field in ModelSpec.CommonFields)
        {
            Assert.Contains(field, shared.Rows.Select(r => r.Path));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Schema_EveryFieldTheKindAccepts_IsAPropertyOfItsBranch(string kind)
    {
        var schema = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("schemas", "model-spec.schema.json")))!;
        var shape = ModelSpec.CommonShape.With(ModelCatalog.Find(kind)!.Fields!);
        var missing = new List<string>();
        Walk(schema, schema, shape, string.Empty, new Dictionary<string, string> { ["kind"] = kind }, missing);
        Assert.True(missing.Count == 0, $"schemas/model-spec.schema.json, kind '{kind}', lacks: {string.Join(", ", missing)}");
    }

    public static TheoryData<string, string> Specs()
    {
        var data = new TheoryData<string, string>();
        var i = 0;
        foreach (var block in Reference.Value.JsonBlocks)
        {
            data.Add($"docs/model-specs.md #{++i}", block);
        }

        foreach (var block in Fenced(File.ReadAllText(RepositoryFiles.Path("README.md")), "json").Where(b => b.Contains("\"kind\"", StringComparison.Ordinal)))
        {
            data.Add("README.md", block);
        }

        foreach (var file in Directory.GetFiles(RepositoryFiles.Path("examples"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add($"examples/{Path.GetFileName(file)}", File.ReadAllText(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Spec_InTheDocsOrExamples_ValidatesAgainstTheSchemaAndLoads(string source, string json)
    {
        var result = Schema.Value.Evaluate(JsonDocument.Parse(json).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{source} does not match the schema: {Errors(result)}");
        var directory = source.StartsWith("examples/", StringComparison.Ordinal) ? RepositoryFiles.Path("examples") : RepositoryFiles.Root;
        if (NeedsTraining(json))
        {
            // A starting point for 'streamseq fit' (no weights yet) is valid but cannot run.
            Assert.Equal("weights", Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json, source, directory))).Field);
            return;
        }

        var estimator = ModelCatalog.Build(ModelSpec.Parse(json, source, directory));
        Assert.NotNull(estimator);
        (estimator as IDisposable)?.Dispose();
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Spec_WithAnUnknownField_IsRejectedByTheSchemaAndTheLoader(string source, string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["frobnicate"] = 1;
        var text = node.ToJsonString();
        Assert.False(Schema.Value.Evaluate(JsonDocument.Parse(text).RootElement).IsValid, $"{source} plus an unknown field passes the schema");
        var directory = source.StartsWith("examples/", StringComparison.Ordinal) ? RepositoryFiles.Path("examples") : RepositoryFiles.Root;
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(text, source, directory)));
        Assert.Equal("frobnicate", e.Field);
        if (NeedsTraining(json))
        {
            // A starting point for 'streamseq fit' has no weights: the unknown field comes first, then what is missing.
            Assert.Contains("; weights: is required", e.Problem, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Reference_EveryKind_HasAnExampleOfThatKind(string kind) =>
        Assert.Contains(Reference.Value.Sections[kind].JsonBlocks, b => JsonNode.Parse(b)!["kind"]!.GetValue<string>() == kind);

    [Theory]
    [InlineData("""{"name":"x","kind":"hmm","initialProbabilities":[1],"transition":[[1]],"emission":{"type":"gaussian","means":[0],"variances":[1],"rates":[1]}}""")]
    [InlineData("""{"name":"x","kind":"bocpd","hazard":{"type":"constant","rate":0.1,"shape":2},"observation":{"type":"normal-gamma","priorMean":0,"kappa":1,"alpha":2,"beta":1}}""")]
    [InlineData("""{"name":"x","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1,"period":3}],"observationNoise":[[1]]}""")]
    [InlineData("""{"name":"x","kind":"particle","model":{"type":"growth","persistence":0.5}}""")]
    [InlineData("""{"name":"x","kind":"unscented-kalman","model":{"type":"growth","transitionNoise":1,"observationNoise":1,"initialMean":[0],"initialCovariance":[[1]]},"sigmaPoints":{"scheme":"julier","alpha":1}}""")]
    [InlineData("""{"name":"x","kind":"imm","modeTransition":[[1]],"modes":[{"transition":[[1]],"transitionNoise":[[1]],"observation":[[1]],"observationNoise":[[1]],"initialMean":[0],"initialCovariance":[[1]],"particles":3}]}""")]
    public void Schema_FieldOfAnotherVariantOrKind_IsRejected(string json) =>
        Assert.False(Schema.Value.Evaluate(JsonDocument.Parse(json).RootElement).IsValid);

    private static readonly Lazy<ReferencePage> Reference = new(() => ReferencePage.Parse(File.ReadAllText(RepositoryFiles.Path("docs", "model-specs.md"))));

    /// <summary>Every (path, variant) a kind declares; paths are dotted, array items are not marked.</summary>
    private static List<(string Path, string? Variant)> Declared(string kind)
    {
        var result = new List<(string, string?)>();
        var visited = new HashSet<SpecShape>(ReferenceEqualityComparer.Instance);
        void Visit(SpecShape shape, string prefix, string? variant)
        {
            // A shape reached twice (components and preset) is documented once.
            if (!visited.Add(shape))
            {
                return;
            }

            foreach (var f in shape.Fields)
            {
                result.Add((prefix + f, variant));
            }

            foreach (var (name, nested) in shape.Nested)
            {
                if (nested.MapValue is { } value)
                {
                    // A map's keys are the user's own names: documented as <field>.*.<value field>.
                    Visit(value, $"{prefix}{name}.*.", variant);
                }
                else if (!ReferenceEquals(nested, LinearGaussianKind.ModelShape) || kind == "linear-gaussian")
                {
                    Visit(nested, $"{prefix}{name}.", variant);
                }
            }

            foreach (var (value, v) in shape.Variants)
            {
                if (!ReferenceEquals(v, LinearGaussianKind.ModelShape))
                {
                    Visit(v, prefix, value);
                }
            }
        }

        Visit(ModelCatalog.Find(kind)!.Fields!, string.Empty, null);
        return result;
    }

    /// <summary>A row for the path in the kind's section (under a heading naming the variant, if any), or in the section
    /// of another kind the section refers to (such as "the network fields of `recurrent`").</summary>
    private static bool Documented(ReferencePage doc, string kind, string path, string? variant, HashSet<string> seen)
    {
        if (!seen.Add(kind) || !doc.Sections.TryGetValue(kind, out var section))
        {
            return false;
        }

        if (section.Rows.Any(r => r.Path == path && (variant is null || r.Heading.Contains($"`{variant}`", StringComparison.Ordinal))))
        {
            return true;
        }

        return doc.Sections.Keys.Where(k => k != kind && section.Text.Contains($"`{k}`", StringComparison.Ordinal)).Any(k => Documented(doc, k, path, variant, seen));
    }

    /// <summary>Checks that the schema node for an object of <paramref name="shape"/> has a property for each field.</summary>
    private static void Walk(JsonNode root, JsonNode node, SpecShape shape, string prefix, Dictionary<string, string> context, List<string> missing)
    {
        var variants = shape.Variants.Count == 0 ? [(Value: (string?)null, Shape: (SpecShape?)null)] : shape.Variants.Select(v => (Value: (string?)v.Key, Shape: (SpecShape?)v.Value)).ToList();
        foreach (var (value, variant) in variants)
        {
            var local = new Dictionary<string, string>(context);
            if (value is not null)
            {
                local[shape.Discriminator!] = value;
            }

            var properties = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
            Collect(root, node, local, properties);
            var fields = shape.Fields.Concat(variant?.Fields ?? []);
            foreach (var f in fields)
            {
                if (!properties.ContainsKey(f))
                {
                    missing.Add(value is null ? prefix + f : $"{prefix}{f} (for {value})");
                }
            }

            foreach (var (name, nested) in shape.Nested.Concat(variant?.Nested ?? new Dictionary<string, SpecShape>()))
            {
                if (properties.TryGetValue(name, out var child) && child is not null)
                {
                    var target = Resolve(root, child);
                    if (target["type"]?.GetValue<string>() == "array" && target["items"] is { } items)
                    {
                        target = Resolve(root, items);
                    }

                    if (nested.MapValue is { } mapValue)
                    {
                        if (target["additionalProperties"] is JsonObject values)
                        {
                            Walk(root, values, mapValue, $"{prefix}{name}.*.", [], missing);
                        }
                        else
                        {
                            missing.Add($"{prefix}{name} (a map: additionalProperties)");
                        }

                        continue;
                    }

                    Walk(root, target, nested, $"{prefix}{name}.", [], missing);
                }
            }
        }
    }

    /// <summary>Property names (and their schemas) that apply to an instance with the given discriminator values.</summary>
    private static void Collect(JsonNode root, JsonNode node, Dictionary<string, string> context, Dictionary<string, JsonNode?> into)
    {
        node = Resolve(root, node);
        if (node["properties"] is JsonObject props)
        {
            foreach (var (name, value) in props)
            {
                into.TryAdd(name, value);
            }
        }

        foreach (var key in new[] { "allOf", "oneOf", "anyOf" })
        {
            if (node[key] is not JsonArray items)
            {
                continue;
            }

            foreach (var item in items)
            {
                if (item!["if"] is { } condition)
                {
                    if (Matches(condition, context) && item["then"] is { } then)
                    {
                        Collect(root, then, context, into);
                    }
                    else if (!Matches(condition, context) && item["else"] is { } otherwise)
                    {
                        Collect(root, otherwise, context, into);
                    }
                }
                else
                {
                    Collect(root, item, context, into);
                }
            }
        }
    }

    private static bool Matches(JsonNode condition, Dictionary<string, string> context)
    {
        foreach (var (name, value) in condition["properties"]!.AsObject())
        {
            if (value!["const"] is not { } constant || !context.TryGetValue(name, out var actual) || actual != constant.GetValue<string>())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Follows <c>$ref</c> (a node with a reference is described by its target).</summary>
    private static JsonNode Resolve(JsonNode root, JsonNode node)
    {
        while (node["$ref"] is { } reference)
        {
            var target = root;
            foreach (var part in reference.GetValue<string>().TrimStart('#', '/').Split('/'))
            {
                target = target[part]!;
            }

            node = target;
        }

        return node;
    }

    private static bool NeedsTraining(string json)
    {
        var node = JsonNode.Parse(json)!;
        return node["kind"]!.GetValue<string>() == "recurrent" && node["weights"] is null;
    }

    private static string Errors(EvaluationResults result) =>
        string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(6));

    private static IEnumerable<string> Fenced(string markdown, string language) =>
        FenceRegex().Matches(markdown).Where(m => m.Groups[1].Value == language).Select(m => m.Groups[2].Value);

    [GeneratedRegex(@"^```(\w*)\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FenceRegex();

    /// <summary>The reference page split into sections (## headings), with each table row's field path and the nearest
    /// heading above it.</summary>
    private sealed class ReferencePage
    {
        public Dictionary<string, Section> Sections { get; } = new(StringComparer.Ordinal);

        public List<string> JsonBlocks { get; } = [];

        public static ReferencePage Parse(string markdown)
        {
            var page = new ReferencePage();
            page.JsonBlocks.AddRange(Fenced(markdown, "json"));
            Section? current = null;
            var heading = string.Empty;
            foreach (var part in markdown.Split("\n## "))
            {
                var title = part[..part.IndexOf('\n', StringComparison.Ordinal)].Trim();
                var name = title.Trim('`');
                current = new Section(part);
                page.Sections[name] = current;
                foreach (var line in part.Split('\n'))
                {
                    if (line.StartsWith('#'))
                    {
                        heading = line;
                    }
                    else if (line.StartsWith("| `", StringComparison.Ordinal))
                    {
                        var path = line[3..line.IndexOf('`', 3)].Replace("[]", string.Empty, StringComparison.Ordinal);
                        current.Rows.Add((path, heading));
                    }
                }

                current.JsonBlocks.AddRange(Fenced(part, "json"));
            }

            return page;
        }
    }

    private sealed class Section(string text)
    {
        public string Text { get; } = text;

        public List<(string Path, string Heading)> Rows { get; } = [];

        public List<string> JsonBlocks { get; } = [];
    }
}
