using StreamSeq.Testing;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using StreamSeq.Cli.Commands;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Cli.Tests.Schemas;

/// <summary>The JSON Schema files in schemas/ describe what the code actually reads and writes.</summary>
public sealed class RecordSchemaTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-schema-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // The library keeps a global registry by $id, so each schema is loaded once per test run.
    private static readonly Dictionary<string, JsonSchema> Loaded = [];

    private static JsonSchema Load(string name)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(name, out var schema))
            {
                Loaded[name] = schema = JsonSchema.FromFile(RepositoryFiles.Path("schemas", name));
            }

            return schema;
        }
    }

    private static void AssertValid(JsonSchema schema, string json, string what)
    {
        var result = schema.Evaluate(JsonDocument.Parse(json).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{what} does not match {schema.BaseUri}: {json[..Math.Min(json.Length, 300)]}\n{string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(5))}");
    }

    public static TheoryData<string> Examples() => new(Directory.GetFiles(RepositoryFiles.Path("examples"), "*.json").Select(Path.GetFileNameWithoutExtension).Where(n => File.Exists(RepositoryFiles.Path("examples", n + ".csv")) || n!.StartsWith("nile", StringComparison.Ordinal)).Select(n => n!));

    [Theory]
    [MemberData(nameof(Examples))]
    public void OutputRecords_EveryExampleModel_MatchTheOutputSchema(string example)
    {
        var schema = Load("output-record.schema.json");
        var input = RepositoryFiles.Path("examples", (example.StartsWith("nile", StringComparison.Ordinal) ? "nile" : example) + ".csv");
        var output = Path.Combine(dir, "out.jsonl");
        Assert.Equal(0, RunCommand.Execute(RepositoryFiles.Path("examples", example + ".json"), input, output, 2, 2, false, 0, false, null, TextWriter.Null, TextWriter.Null));
        var kinds = new HashSet<string>();
        foreach (var line in File.ReadLines(output).Take(400))
        {
            AssertValid(schema, line, example);
            kinds.Add(JsonDocument.Parse(line).RootElement.GetProperty("type").GetString()!);
        }

        Assert.Contains("filtered", kinds);
        Assert.Contains("forecast", kinds);
    }

    [Fact]
    public void OutputRecords_AReadingNearTheLargestDouble_MatchTheOutputSchema()
    {
        // 1e300 against a predictive variance of 0.07: the NIS overflows to Infinity and the log-likelihood to
        // -Infinity, which records write as the strings the schema names for non-finite numbers.
        var model = Path.Combine(dir, "level.json");
        File.WriteAllText(model, """{"name":"level","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":0.01}],"observationNoise":[[0.04]],"anomalyRules":[{"name":"surprise","type":"chi-square","threshold":0.0001}]}""");
        var input = Path.Combine(dir, "spike.csv");
        File.WriteAllText(input, "stream,time,value\na,1,20\na,2,20.1\na,3,1e300\na,4,1e300\na,5,20\n");
        var output = Path.Combine(dir, "out.jsonl");

        Assert.Equal(0, RunCommand.Execute(model, input, output, 2, 2, false, 0, false, null, TextWriter.Null, TextWriter.Null));

        var lines = File.ReadAllLines(output);
        Assert.Contains(lines, l => l.Contains("\"nis\":\"Infinity\"", StringComparison.Ordinal) && l.StartsWith("{\"type\":\"anomaly\"", StringComparison.Ordinal));
        var schema = Load("output-record.schema.json");
        foreach (var line in lines)
        {
            AssertValid(schema, line, "spike");
        }
    }

    [Fact]
    public void OutputRecords_HmmReadingsOutsideTheEmissionSupport_AreScoredImpossibleAndMatchTheOutputSchema()
    {
        // A fractional, a negative and a too-large category index have probability 0 in every state: logLik -Infinity
        // and nis Infinity, so a log-likelihood rule fires on each (they were null before, which no rule fired on).
        var model = Path.Combine(dir, "cats.json");
        File.WriteAllText(model, """{"name":"cats","kind":"hmm","initialProbabilities":[0.3,0.7],"transition":[[0.9,0.1],[0.2,0.8]],"emission":{"type":"categorical","probabilities":[[0.5,0.5,0.0],[0.2,0.3,0.5]]},"alertGate":{"hysteresis":false},"anomalyRules":[{"name":"surprise","type":"log-likelihood","threshold":-20}]}""");
        var input = Path.Combine(dir, "cats.csv");
        File.WriteAllText(input, "stream,time,value\na,1,1\na,2,1.5\na,3,0\na,4,-1\na,5,2\na,6,3\na,7,1\n");
        var output = Path.Combine(dir, "out.jsonl");

        Assert.Equal(0, RunCommand.Execute(model, input, output, 0, 0, false, 0, false, null, TextWriter.Null, TextWriter.Null));

        var lines = File.ReadAllLines(output);
        var schema = Load("output-record.schema.json");
        foreach (var line in lines)
        {
            AssertValid(schema, line, "cats");
        }

        var filtered = lines.Select(l => JsonDocument.Parse(l).RootElement).Where(r => r.GetProperty("type").GetString() == "filtered").ToDictionary(r => r.GetProperty("time").GetInt32());
        var alerts = lines.Select(l => JsonDocument.Parse(l).RootElement).Where(r => r.GetProperty("type").GetString() == "anomaly").Select(r => r.GetProperty("time").GetInt32()).ToArray();
        foreach (var t in new[] { 2, 4, 6 })
        {
            Assert.Equal("-Infinity", filtered[t].GetProperty("logLik").GetString());
            Assert.Equal("Infinity", filtered[t].GetProperty("nis").GetString());
            Assert.Equal("observation-skipped", filtered[t].GetProperty("health")[0].GetString());
            Assert.Equal(filtered[t].GetProperty("predicted").GetProperty("mean").ToString(), filtered[t].GetProperty("state").GetProperty("mean").ToString());
        }

        foreach (var t in new[] { 1, 3, 5, 7 })
        {
            Assert.Equal(JsonValueKind.Number, filtered[t].GetProperty("logLik").ValueKind);
        }

        Assert.Equal([2, 4, 6], alerts);
    }

    [Theory]
    [InlineData("""{"type":"filtered","stream":"a","time":1,"model":"m","predicted":{"mean":[0]},"observation":{"mean":[0]},"logLik":null,"nis":null}""")]
    [InlineData("""{"type":"smoothed","stream":"a","time":1,"model":"m","method":"fixed-lag","lag":-1,"state":{"mean":[0]}}""")]
    [InlineData("""{"type":"forecast","stream":"a","time":1,"model":"m","madeAt":0,"horizon":0,"state":{"mean":[0]},"observation":{"mean":[0]}}""")]
    [InlineData("""{"type":"anomaly","stream":"a","time":1,"model":"m","rule":"r","score":"high","threshold":1,"values":[1],"expected":[0]}""")]
    public void OutputSchema_MalformedRecord_IsRejected(string json) =>
        Assert.False(Load("output-record.schema.json").Evaluate(JsonDocument.Parse(json).RootElement).IsValid);

    [Fact]
    public void ModelSpecs_EveryExample_MatchesTheModelSpecSchema()
    {
        var schema = Load("model-spec.schema.json");
        foreach (var file in Directory.GetFiles(RepositoryFiles.Path("examples"), "*.json"))
        {
            AssertValid(schema, File.ReadAllText(file), Path.GetFileName(file));
        }
    }

    [Fact]
    public void ModelSpecs_ShippedDetectorConfiguration_MatchesTheSchemaWhichListsEachOfItsFields()
    {
        var path = RepositoryFiles.Path("src", "StreamSeq.Estimation", "Detection", "anomaly-detector.json");
        var text = File.ReadAllText(path);
        AssertValid(Load("model-spec.schema.json"), text, "anomaly-detector.json");

        var schema = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("schemas", "model-spec.schema.json")))!;
        var detector = schema["allOf"]!.AsArray().Single(c => c!["if"]!["properties"]!["kind"]!["const"]!.GetValue<string>() == "anomaly-detector");
        var listed = detector!["then"]!["properties"]!.AsObject().Select(p => p.Key).Concat(schema["properties"]!.AsObject().Select(p => p.Key)).ToHashSet();
        foreach (var field in JsonNode.Parse(text)!.AsObject())
        {
            Assert.Contains(field.Key, listed);
        }
    }

    [Fact]
    public void ModelSpecSchema_ListsEveryCatalogKind()
    {
        var schema = JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("schemas", "model-spec.schema.json")))!;
        var kinds = schema["properties"]!["kind"]!["enum"]!.AsArray().Select(k => k!.GetValue<string>()).ToHashSet();
        foreach (var kind in ModelCatalog.All)
        {
            Assert.Contains(kind.Kind, kinds);
        }
    }

    [Fact]
    public void InputRecords_ContractExamples_MatchTheInputSchemaAndDecode()
    {
        var schema = Load("input-record.schema.json");
        foreach (var json in new[]
        {
            """{"time":"2026-01-01T00:01:00Z","values":[21.4,null]}""",
            """{"time":1767225660000,"values":[1,"NaN"],"control":[0.5]}""",
            """{"stream":"pump-7","time":12.5,"values":[3]}""",
            """{"values":[1]}""",
        })
        {
            AssertValid(schema, json, "input example");
        }

        var bad = schema.Evaluate(JsonDocument.Parse("""{"time":true,"values":[1]}""").RootElement);
        Assert.False(bad.IsValid);

        // Missing is null or "NaN" and nothing else: the schema and the decoder agree that "Infinity" is no reading.
        Assert.False(schema.Evaluate(JsonDocument.Parse("""{"time":1,"values":["Infinity"]}""").RootElement).IsValid);
        Assert.False(new StreamSeq.Processing.Records.InputRecordDecoder().TryDecode("""{"time":1,"values":["Infinity"]}"""u8, "s", double.NaN, default, out _, out _, out _));
    }
}
