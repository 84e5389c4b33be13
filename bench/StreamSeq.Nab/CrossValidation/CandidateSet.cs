using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamSeq.Nab.CrossValidation;

/// <summary>
/// The configurations a selection chooses from, read from JSON:
/// <c>{"base": {settings}, "candidates": [{"name": "a", "settings": {overrides}}, ...]}</c>. Each candidate is the base
/// with its overrides applied; without a base, the overrides apply to the detector's shipped configuration. List
/// candidates in order of preference: the selection prefers the earlier of two candidates that the folds cannot tell
/// apart.
/// </summary>
public static class CandidateSet
{
    private static readonly string[] Reserved = ["name", "kind", "thresholds"];

    /// <summary>The single candidate "default": the detector kind's shipped settings.</summary>
    public static IReadOnlyList<DetectorCandidate> Default { get; } = [new("default", [])];

    /// <summary>Reads a candidate file.</summary>
    /// <exception cref="InvalidDataException">The file does not have the shape above, names a candidate twice or sets a reserved field.</exception>
    public static IReadOnlyList<DetectorCandidate> Load(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }

        return Parse(root, path);
    }

    /// <summary>Reads candidates from parsed JSON; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">The JSON does not have the documented shape.</exception>
    public static IReadOnlyList<DetectorCandidate> Parse(JsonNode? root, string source)
    {
        if (root is not JsonObject document)
        {
            throw new InvalidDataException($"{source}: expected an object with 'base' and 'candidates'.");
        }

        foreach (var (key, _) in document)
        {
            if (key is not ("base" or "candidates" or "description"))
            {
                throw new InvalidDataException($"{source}: unknown field '{key}' (expected 'base', 'candidates', 'description').");
            }
        }

        var baseSettings = document["base"] switch
        {
            null => [],
            JsonObject o => Settings(o, source, "base"),
            _ => throw new InvalidDataException($"{source}: 'base' must be an object of detector settings."),
        };
        if (document["candidates"] is not JsonArray list || list.Count == 0)
        {
            throw new InvalidDataException($"{source}: 'candidates' must be a non-empty array of {{\"name\", \"settings\"}} objects.");
        }

        var candidates = new List<DetectorCandidate>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var where = $"candidates[{i}]";
            if (list[i] is not JsonObject entry || entry["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name) || string.IsNullOrWhiteSpace(name))
            {
                throw new InvalidDataException($"{source}: {where} needs a non-empty 'name'.");
            }

            if (!names.Add(name))
            {
                throw new InvalidDataException($"{source}: {where}: candidate '{name}' appears twice.");
            }

            var merged = (JsonObject)baseSettings.DeepClone();
            switch (entry["settings"])
            {
                case null:
                    break;
                case JsonObject overrides:
                    foreach (var (key, value) in Settings(overrides, source, where + ".settings"))
                    {
                        merged[key] = value?.DeepClone();
                    }

                    break;
                default:
                    throw new InvalidDataException($"{source}: {where}.settings must be an object of detector settings.");
            }

            candidates.Add(new DetectorCandidate(name, merged));
        }

        return candidates;
    }

    private static JsonObject Settings(JsonObject settings, string source, string where)
    {
        foreach (var (key, _) in settings)
        {
            if (Reserved.Contains(key, StringComparer.Ordinal))
            {
                throw new InvalidDataException($"{source}: {where} may not set '{key}' (the selection sets the name and chooses the thresholds).");
            }
        }

        return settings;
    }
}
