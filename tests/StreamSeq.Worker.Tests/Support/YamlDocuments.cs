using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>Reads YAML (one or many documents) into JSON nodes for easy navigation; scalars stay strings.</summary>
internal static class YamlDocuments
{
    public static List<JsonObject> Parse(string yaml)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        var documents = new List<JsonObject>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (ToJson(deserializer.Deserialize<object?>(parser)) is JsonObject document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    public static JsonObject ParseOne(string yaml) => Assert.Single(Parse(yaml));

    /// <summary>The string value at a node (null when absent).</summary>
    public static string? Text(this JsonNode? node) => node?.GetValue<string>();

    public static IEnumerable<JsonNode> Items(this JsonNode? node) => node is JsonArray array ? array.Select(n => n!) : [];

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        IDictionary<object, object> map => new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key.ToString()!, ToJson(kv.Value)))),
        IList<object> list => new JsonArray([.. list.Select(ToJson)]),
        _ => JsonValue.Create(value.ToString()),
    };
}
