using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.State;

/// <summary>
/// Streams that learn their noise keep what they learned in their state: a changelog restore, an eviction and revival
/// and a replay continue bit for bit, every filtered record carries the learned values, and a parameter table seeds
/// only streams that start from nothing.
/// </summary>
public sealed class AdaptiveStateTests
{
    private const string Fleet = """
        {"name": "fleet", "kind": "linear-gaussian", "components": [{"type": "local-linear-trend", "levelNoise": 0.05, "slopeNoise": 0.0001}],
         "observationNoise": [[1.0]], "adapt": ["observationNoise", "components[0].levelNoise", "components[0].slopeNoise"],
         "adaptation": {"window": 100}}
        """;

    /// <summary>An unscented filter whose streams learn their observation noise by variational Bayes.</summary>
    private const string UnscentedFleet = """
        {"name": "fleet", "kind": "unscented-kalman",
         "model": {"type": "linear", "components": [{"type": "local-linear-trend", "levelNoise": 0.05, "slopeNoise": 0.0001}],
                   "observationNoise": [[1.0]], "initialMean": [0, 0], "initialCovariance": [[100, 0], [0, 1]]},
         "adapt": ["model.observationNoise"], "adaptation": {"window": 100}}
        """;

    /// <summary>Five streams with their own noise (standard deviations 0.3 to 3), irregular times, a missing value
    /// now and then and one spike.</summary>
    private static List<byte[]> Readings(int rounds = 300)
    {
        var rng = new Random(31);
        var rows = new List<byte[]>();
        var levels = new double[5];
        var times = new double[5];
        for (var k = 0; k < rounds; k++)
        {
            for (var s = 0; s < 5; s++)
            {
                times[s] += rng.NextDouble() < 0.8 ? 1.0 : 0.2 + (3 * rng.NextDouble());
                levels[s] += 0.2 * Normal(rng);
                var y = levels[s] + (0.3 * Math.Pow(10, s / 4.0) * Normal(rng)) + (s == 1 && k == 200 ? 40 : 0);
                var value = rng.NextDouble() < 0.05 ? "null" : y.ToString("R", CultureInfo.InvariantCulture);
                rows.Add(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"stream":"s{{s}}","time":{{times[s]:R}},"values":[{{value}}]}""")));
            }
        }

        return rows;
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static List<string> Run(ModelRouter router, List<byte[]> rows, Func<int, StateStore, StreamProcessor, (StateStore, StreamProcessor)>? interrupt = null, ProcessorOptions? options = null)
    {
        var sink = new ListSink();
        var store = new StateStore(-1, options?.MaxLiveStreams ?? 0);
        var processor = new StreamProcessor(router, options, numericTimeFormat: TimeFormat.ModelUnits);
        for (var i = 0; i < rows.Count; i++)
        {
            if (interrupt is not null)
            {
                (store, processor) = interrupt(i, store, processor);
            }

            processor.ProcessEncoded(rows[i], default, double.NaN, default, new SourcePosition("in", -1, i), store, sink);
        }

        processor.Dispose();
        Assert.Empty(sink.DeadLetters);
        return [.. sink.Records.Select(r => r.Json)];
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 3)]
    [InlineData(true, 0)]
    [InlineData(true, 3)]
    public void Restore_AdaptiveStreamsFromTheChangelogHalfWay_ContinueByteIdentically(bool unscented, int lag)
    {
        // Without a lag the fast kernels step the streams; with one, the general kernel (smoothing records).
        var router = TestModels.Router(TestModels.Binding(unscented ? UnscentedFleet : Fleet, lag));
        var rows = Readings();
        var uninterrupted = Run(router, rows);
        var restored = Run(router, rows, (i, store, processor) =>
        {
            if (i != rows.Count / 2)
            {
                return (store, processor);
            }

            var changelog = store.Streams.ToDictionary(s => s.StreamId, StreamStateCodec.ToBytes);
            processor.Dispose();
            var fresh = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
            var freshStore = new StateStore();
            foreach (var (id, bytes) in changelog)
            {
                Assert.True(fresh.Restore(freshStore, id, bytes, out var reason), reason);
            }

            return (freshStore, fresh);
        });
        Assert.Equal(uninterrupted, restored);
        Assert.Contains(uninterrupted, r => r.Contains("\"outlier-rejected\"", StringComparison.Ordinal));
        var filtered = uninterrupted.Where(r => r.Contains("\"type\":\"filtered\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(rows.Count, filtered.Count);
        Assert.All(filtered, r => Assert.Contains(unscented ? "\"model.observationNoise\":{\"value\":" : "\"observationNoise\":{\"value\":", r, StringComparison.Ordinal));
    }

    [Fact]
    public void Step_StreamsEvictedAndRevived_GiveTheRecordsOfAnUnlimitedStore()
    {
        var router = TestModels.Router(TestModels.Binding(Fleet));
        var rows = Readings(120);
        var a = Run(router, rows);
        var b = Run(router, rows, options: new ProcessorOptions { MaxLiveStreams = 2 });
        var first = Enumerable.Range(0, a.Count).FirstOrDefault(i => a[i] != b[i], -1);
        Assert.True(first < 0, first < 0 ? string.Empty : $"record {first}:\n{a[first]}\n{b[first]}");
    }

    [Fact]
    public void WriteFiltered_AdaptiveModel_RecordsCarryTheLearnedValuesOfTheState()
    {
        var binding = TestModels.Binding(Fleet);
        var router = TestModels.Router(binding);
        var store = new StateStore();
        var sink = new ListSink();
        using var processor = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
        var rows = Readings(100);
        foreach (var row in rows)
        {
            processor.ProcessEncoded(row, default, double.NaN, default, new SourcePosition("in", -1, 0), store, sink);
        }

        var learner = (IParameterLearner)binding.Estimator;
        foreach (var state in store.Streams)
        {
            var values = new double[binding.Estimator.Info.ParametersLength];
            learner.ReadParameters(state.Buffer, values, new double[values.Length]);
            var last = sink.Of(OutputKind.Filtered).Last(r => r.GetProperty("stream").GetString() == state.StreamId);
            var parameters = last.GetProperty("parameters");
            Assert.Equal(values[0], parameters.GetProperty("observationNoise").GetProperty("value")[0][0].GetDouble());
            Assert.Equal(values[1], parameters.GetProperty("components[0].levelNoise").GetProperty("value").GetDouble());
            Assert.Equal(values[2], parameters.GetProperty("components[0].slopeNoise").GetProperty("value").GetDouble());
            Assert.True(parameters.GetProperty("observationNoise").GetProperty("sd")[0][0].GetDouble() > 0);
        }

        // The streams' noise differs by two orders of magnitude and so do the learned variances.
        var learned = store.Streams.OrderBy(s => s.StreamId, StringComparer.Ordinal).Select(s =>
        {
            var values = new double[3];
            learner.ReadParameters(s.Buffer, values, new double[3]);
            return values[0];
        }).ToArray();
        Assert.True(learned[4] > 20 * learned[0], $"learned observation variances {string.Join(", ", learned)}");
    }

    [Fact]
    public void StartingParameters_TableWrittenByARun_SeedsNewStreamsButNotRestoredOnes()
    {
        var binding = TestModels.Binding(Fleet);
        var router = TestModels.Router(binding);
        var rows = Readings(100);
        var store = new StateStore();
        using (var processor = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits))
        {
            foreach (var row in rows)
            {
                processor.ProcessEncoded(row, default, double.NaN, default, new SourcePosition("in", -1, 0), store, new ListSink());
            }
        }

        var path = Path.Combine(Path.GetTempPath(), $"streamseq-table-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var file = File.Create(path))
            {
                Assert.Equal(5, ParameterTable.Write(file, store.Streams));
            }

            var table = ParameterTable.Load(path, router);
            Assert.Equal(5, table.Count);
            var learner = (IParameterLearner)binding.Estimator;
            var expected = new double[3];
            learner.ReadParameters(store.Streams.Single(s => s.StreamId == "s3").Buffer, expected, new double[3]);

            // A new stream starts from its row: its first record's values are the row's (the first step learns nothing
            // while the stream is diffuse).
            var sink = new ListSink();
            var fresh = new StateStore();
            using (var seeded = new StreamProcessor(router, new ProcessorOptions { StartingParameters = table }, numericTimeFormat: TimeFormat.ModelUnits))
            {
                seeded.ProcessEncoded("""{"stream":"s3","time":1,"values":[2.5]}"""u8, default, double.NaN, default, new SourcePosition("in", -1, 0), fresh, sink);

                // A stream restored from the changelog keeps what it learned, whatever the table says.
                var restored = store.Streams.Single(s => s.StreamId == "s4");
                Assert.True(seeded.Restore(fresh, "s4", StreamStateCodec.ToBytes(restored), out _));
                var before = new double[3];
                learner.ReadParameters(restored.Buffer, before, new double[3]);
                seeded.ProcessEncoded(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"stream":"s4","time":{{restored.LastModelTime + 1:R}},"values":[null]}""")), default, double.NaN, default, new SourcePosition("in", -1, 1), fresh, sink);
                var s4 = sink.Of(OutputKind.Filtered).Single(r => r.GetProperty("stream").GetString() == "s4");
                Assert.Equal(before[0], s4.GetProperty("parameters").GetProperty("observationNoise").GetProperty("value")[0][0].GetDouble());
            }

            var first = sink.Of(OutputKind.Filtered).First().GetProperty("parameters");
            Assert.Equal(expected[0], first.GetProperty("observationNoise").GetProperty("value")[0][0].GetDouble());
            Assert.Equal(expected[1], first.GetProperty("components[0].levelNoise").GetProperty("value").GetDouble());
            Assert.Equal(expected[2], first.GetProperty("components[0].slopeNoise").GetProperty("value").GetDouble());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("""{"stream":"a","model":"other","parameters":{}}""", "1: model 'other' is not configured")]
    [InlineData("""{"stream":"a","model":"fleet","parameters":{"transitionNoise":1}}""", "1: parameters.transitionNoise: model 'fleet' does not learn it")]
    [InlineData("""{"stream":"a","model":"fleet","parameters":{"observationNoise":2}}""", "1: parameters.observationNoise: must be a 1x1 matrix")]
    [InlineData("""{"stream":"a","model":"fleet","parameters":{"observationNoise":[[-2]]}}""", "1: parameters.observationNoise[0][0]: must be a positive finite number")]
    [InlineData("""{"stream":"a","model":"fleet","parameters":{"components[0].levelNoise":{"value":"x"}}}""", "1: parameters.components[0].levelNoise: must be a finite number, got \"x\"")]
    [InlineData("""{"model":"fleet","parameters":{}}""", "1: stream: is required")]
    [InlineData("""{"stream":"a","model":"fleet"}""", "1: parameters: is required")]
    [InlineData("""not json""", "1: not a JSON object")]
    [InlineData("""{"stream":"\ud800","model":"fleet","parameters":{}}""", "1: stream is not Unicode text")] // found by fuzzing: InvalidOperationException escaped
    [InlineData("""{"stream":"a","model":"fleet","parameters":{"\udc00":1}}""", "1: a field name in parameters is not Unicode text")]
    [InlineData("{\"stream\":\"a\",\"model\":\"fleet\",\"parameters\":{}}\n\n{\"stream\":\"a\",\"model\":\"fleet\",\"parameters\":{}}", "3: stream 'a' has a row already")]
    public void Load_MalformedRow_FailsNamingFileLineAndField(string contents, string expected)
    {
        var router = TestModels.Router(TestModels.Binding(Fleet));
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-table-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllText(path, contents);
            var e = Assert.Throws<InvalidDataException>(() => ParameterTable.Load(path, router));
            Assert.StartsWith($"{path}:", e.Message, StringComparison.Ordinal);
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_ModelThatLearnsNothing_IsRefused()
    {
        var router = TestModels.Router(TestModels.Binding(TestModels.Trend));
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-table-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllText(path, """{"stream":"a","model":"trend","parameters":{}}""");
            var e = Assert.Throws<InvalidDataException>(() => ParameterTable.Load(path, router));
            Assert.Contains("learns no parameters", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_TableThatIsNotUtf8OrHasNoLineBreaks_FailsNamingTheLineInsteadOfGuessingOrReadingForever()
    {
        var router = TestModels.Router(TestModels.Binding(Fleet));
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-table-{Guid.NewGuid():N}.jsonl");
        try
        {
            // A Latin-1 stream id used to be read as U+FFFD (and so never matched its stream).
            File.WriteAllBytes(path, [.. "{\"stream\":\"s1\",\"model\":\"fleet\",\"parameters\":{}}\n{\"stream\":\"caf"u8, 0xE9, .. "\",\"model\":\"fleet\",\"parameters\":{}}\n"u8]);
            var e = Assert.Throws<InvalidDataException>(() => ParameterTable.Load(path, router));
            Assert.Equal($"{path}:2: not UTF-8 text (0xE9 is not UTF-8; save the table as UTF-8).", e.Message);

            // No line break in sight (a device, a binary file): stop at the row bound instead of filling memory.
            using (var file = File.Create(path))
            {
                file.SetLength(ParameterTable.MaxRowChars + 1L);
            }

            e = Assert.Throws<InvalidDataException>(() => ParameterTable.Load(path, router));
            Assert.StartsWith($"{path}:1: longer than {ParameterTable.MaxRowChars} bytes", e.Message, StringComparison.Ordinal);

            File.Delete(path);
            Directory.CreateDirectory(path);
            e = Assert.Throws<InvalidDataException>(() => ParameterTable.Load(path, router));
            Assert.Equal($"{path}: is a folder, not a parameter table.", e.Message);
        }
        finally
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path);
            }

            File.Delete(path);
        }
    }

    [Fact]
    public void ToJson_AdaptiveStream_GivesTheQueriedValuesOrNullForAModelThatLearnsNothing()
    {
        var binding = TestModels.Binding(Fleet);
        var store = new StateStore();
        using (var processor = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.ModelUnits))
        {
            foreach (var row in Readings(60))
            {
                processor.ProcessEncoded(row, default, double.NaN, default, new SourcePosition("in", -1, 0), store, new ListSink());
            }
        }

        var state = store.Streams.Single(s => s.StreamId == "s2");
        var values = new double[3];
        var deviations = new double[3];
        ((IParameterLearner)binding.Estimator).ReadParameters(state.Buffer, values, deviations);
        var json = LearnedParameters.ToJson(state)!;
        Assert.Equal(((IParameterLearner)binding.Estimator).ReadingsLearned(state.Buffer), json["learnedFrom"]!.GetValue<long>());
        Assert.Equal(values[0], json["values"]!["observationNoise"]!["value"]![0]![0]!.GetValue<double>());
        Assert.Equal(deviations[1], json["values"]!["components[0].levelNoise"]!["sd"]!.GetValue<double>());
        Assert.Null(LearnedParameters.ToJson(new StreamState("x", TestModels.Binding(TestModels.Trend), 0)));
    }

    [Fact]
    public void Write_RowsRoundTripThroughJson_ValuesExactly()
    {
        var binding = TestModels.Binding(Fleet);
        var state = new StreamState("x", binding, 0);
        using var buffer = new MemoryStream();
        ParameterTable.Write(buffer, [state]);
        var row = JsonDocument.Parse(buffer.ToArray()).RootElement;
        Assert.Equal("x", row.GetProperty("stream").GetString());
        Assert.Equal(1.0, row.GetProperty("parameters").GetProperty("observationNoise").GetProperty("value")[0][0].GetDouble());
        Assert.Equal(0.05, row.GetProperty("parameters").GetProperty("components[0].levelNoise").GetProperty("value").GetDouble());
        Assert.Equal(0, row.GetProperty("learnedFrom").GetInt64());
    }
}
