using System.Text.Json.Nodes;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Nab.CrossValidation;

/// <summary>One detector configuration the selection may choose.</summary>
/// <param name="Name">The candidate's name in reports.</param>
/// <param name="Settings">The detector settings (the spec fields other than name and kind), as JSON.</param>
public sealed record DetectorCandidate(string Name, JsonObject Settings)
{
    /// <summary>The model spec the candidate runs: <c>{"name", "kind": "anomaly-detector", ...Settings}</c>.</summary>
    /// <exception cref="StreamSeq.Estimation.Abstractions.ModelValidationException">A setting is invalid.</exception>
    public ModelSpec Spec()
    {
        var json = new JsonObject
        {
            ["name"] = Name,
            ["kind"] = "anomaly-detector",
        };
        foreach (var (key, value) in Settings)
        {
            json[key] = value?.DeepClone();
        }

        return ModelSpec.Parse(json.ToJsonString(), $"candidate '{Name}'");
    }

    /// <summary>The settings as one canonical line of JSON (keys sorted), used to key cached outputs.</summary>
    public string CanonicalSettings() => Canonical(Settings)!.ToJsonString();

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Canonical)]),
        _ => node?.DeepClone(),
    };
}
