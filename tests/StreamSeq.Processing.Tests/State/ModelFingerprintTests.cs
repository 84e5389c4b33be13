using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;
using StreamSeq.Testing;

namespace StreamSeq.Processing.Tests.State;

public sealed class ModelFingerprintTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-fp-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Fingerprint_RetrainedWeightsUnderTheSameSpec_Changes()
    {
        foreach (var name in new[] { "recurrent-nar.json", "recurrent-nar.safetensors" })
        {
            File.Copy(RepositoryFiles.Path("examples", name), Path.Combine(dir, name));
        }

        var spec = Path.Combine(dir, "recurrent-nar.json");
        var before = ModelBindingFactory.FromSpec(ModelSpec.Load(spec)).Fingerprint;
        Assert.Equal(before, ModelBindingFactory.FromSpec(ModelSpec.Load(spec)).Fingerprint);

        // Flip one bit of the last tensor byte (still a valid file): the states of the old weights must not be restored.
        var weights = Path.Combine(dir, "recurrent-nar.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 1;
        File.WriteAllBytes(weights, bytes);
        Assert.NotEqual(before, ModelBindingFactory.FromSpec(ModelSpec.Load(spec)).Fingerprint);
    }

    [Fact]
    public void Read_SpecEditedOnlyWhereNoEstimatorReads_RestoresTheStateAndAnyOtherEditDiscardsIt()
    {
        // What an operator edits to tune alerts or document a model: a description, an anomaly threshold, the alert
        // gate, the spec's layout. Restarting every stream of the model from its prior for these reset a whole fleet.
        var written = TestModels.Binding(TestModels.Trend, lag: 2);
        var state = StateAfterTwelveReadings(written);
        var bytes = StreamStateCodec.ToBytes(state);
        var edits = new[]
        {
            TestModels.Trend.Replace("\"timeUnit\"", "\"description\":\"Boiler room, east wing.\",\"timeUnit\"", StringComparison.Ordinal),
            TestModels.Trend.Replace("\"threshold\":0.001", "\"threshold\":0.0001", StringComparison.Ordinal),
            TestModels.Trend.Replace("}]}", "}],\"alertGate\":{\"hysteresis\":true,\"minInterval\":5}}", StringComparison.Ordinal),
            TestModels.Trend.Replace(",", ",\n    ", StringComparison.Ordinal),
        };
        foreach (var edited in edits)
        {
            var now = TestModels.Binding(edited, lag: 2);
            var back = StreamStateCodec.Read("s", bytes, TestModels.Router(now), out var reason);
            Assert.True(back is not null, $"{edited}: {reason}");
            Assert.Equal(state.Buffer, back.Buffer);
            Assert.Equal(written.Fingerprint, now.Fingerprint);
        }

        foreach (var changed in new[]
        {
            TestModels.Trend.Replace("\"levelNoise\":0.1", "\"levelNoise\":0.2", StringComparison.Ordinal),
            TestModels.Trend.Replace("\"1s\"", "\"1m\"", StringComparison.Ordinal),
        })
        {
            Assert.Null(StreamStateCodec.Read("s", bytes, TestModels.Router(TestModels.Binding(changed, lag: 2)), out var reason));
            Assert.Equal("model 'trend' changed since the state was written", reason);
        }

        Assert.Null(StreamStateCodec.Read("s", bytes, TestModels.Router(TestModels.Binding(TestModels.Trend, lag: 3)), out _));
    }

    [Fact]
    public void Read_StateWrittenUnderTheFormerFingerprintOfAnUnchangedSpec_Restores()
    {
        // Changelogs written before the fingerprint left out description and anomaly settings hold the hash of the
        // spec's whole text; an upgrade with the same spec must not start every stream again.
        var binding = TestModels.Binding(TestModels.Trend, lag: 2);
        Assert.NotEqual(binding.Fingerprint, binding.FormerFingerprint);
        var bytes = StreamStateCodec.ToBytes(StateAfterTwelveReadings(binding));
        var at = 3 + 4 + System.Text.Encoding.UTF8.GetByteCount("trend");
        Assert.Equal(binding.Fingerprint, BitConverter.ToUInt64(bytes, at));
        BitConverter.TryWriteBytes(bytes.AsSpan(at, 8), binding.FormerFingerprint);
        Assert.NotNull(StreamStateCodec.Read("s", bytes, TestModels.Router(binding), out var reason));
        Assert.Null(reason);
        var described = TestModels.Binding(TestModels.Trend.Replace("\"timeUnit\"", "\"description\":\"d\",\"timeUnit\"", StringComparison.Ordinal), lag: 2);
        Assert.Null(StreamStateCodec.Read("s", bytes, TestModels.Router(described), out _));
    }

    private static StreamState StateAfterTwelveReadings(ModelBinding binding)
    {
        using var p = new StreamProcessor(TestModels.Router(binding), new ProcessorOptions());
        var store = new StateStore();
        for (var t = 0; t < 12; t++)
        {
            p.ProcessEncoded(System.Text.Encoding.UTF8.GetBytes($"{{\"time\":{t * 1000},\"values\":[{t}]}}"), "s", double.NaN, default, new SourcePosition("in", 0, t), store, new ListSink());
        }

        return store.Streams.Single();
    }
}
