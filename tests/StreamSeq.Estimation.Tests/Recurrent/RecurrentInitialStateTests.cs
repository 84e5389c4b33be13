using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>
/// A net's initial hidden and cell state from the spec (<c>initialHidden</c>, <c>initialCell</c>) against PyTorch runs
/// from non-zero h_0/c_0 (oracles/rnn), and <c>"initialObservation": "first"</c>.
/// </summary>
public sealed class RecurrentInitialStateTests
{
    /// <summary>
    /// As in <see cref="RecurrentEstimatorTests"/>: with m = 2 and one control, y_{t-1} = x_t[0..2] and u_t = x_t[2], so
    /// the predicted mean is PyTorch's head output; every stream has its own h_0 (and c_0), so one spec per stream.
    /// </summary>
    [Theory]
    // The network against torch (OracleNetworkTests): float64 within 2.5e-16, float32 within 1.8e-7; hence 1e-14 and 3e-7.
    [InlineData("lstm", "double", 1e-14)]
    [InlineData("gru", "double", 1e-14)]
    [InlineData("lstm", "single", 3e-7)]
    [InlineData("gru", "single", 3e-7)]
    public void Build_InitialHiddenAndCellInSpec_ReproducePyTorchFromNonZeroState(string model, string precision, double tolerance)
    {
        var inputs = RnnFixtures.Inputs();
        var states = RnnFixtures.States($"{model}_initial_state_nonzero.csv");
        var expected = RnnFixtures.Outputs($"{model}_nonzeroinit_{(precision == "double" ? "f64" : "f32")}_outputs.csv");
        for (var s = 0; s < RnnFixtures.Streams; s++)
        {
            var estimator = ModelCatalog.Build(ModelSpec.Parse(Spec(model, precision, inputs[s][0][..2], s, states)));
            var state = new double[estimator.Info.StateLength];
            estimator.Initialize(state, 0);
            var estimate = new Estimate(estimator.Info);
            for (var t = 0; t < RnnFixtures.Steps - 1; t++)
            {
                estimator.Step(state, new Observation(inputs[s][t + 1].AsSpan(0, 2), control: [inputs[s][t][2]]), estimate, default);
                Expect.Close(expected[s][t].Y, estimate.ObservationMean, tolerance, $"stream {s} step {t} y");
                Expect.Close(expected[s][t].H, estimate.StateMean, tolerance, $"stream {s} step {t} h");
            }
        }
    }

    [Fact]
    public void Build_InitialCellOnGru_IsRejectedNamingTheField()
    {
        var states = RnnFixtures.States("gru_initial_state_nonzero.csv");
        var json = Spec("gru", "double", [0.0, 0.0], 0, states).Replace("\"state\"", "\"initialCell\":[[0,0,0,0,0,0,0,0]],\"state\"", StringComparison.Ordinal);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal("initialCell", e.Field);
    }

    [Fact]
    public void Build_InitialHiddenOfWrongShape_IsRejectedWithTheExpectedShape()
    {
        var states = RnnFixtures.States("lstm_initial_state_nonzero.csv");
        var json = Spec("lstm", "double", [0.0, 0.0], 0, states).Replace("\"initialHidden\":[[", "\"initialHidden\":[[1,", StringComparison.Ordinal);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.StartsWith("initialHidden", e.Field, StringComparison.Ordinal);
    }

    /// <summary>
    /// "first": a stream's first reading is y_0. Its record is not scored, and from the second reading on the stream
    /// is exactly a stream of a model whose y_0 is that reading fed the remaining readings.
    /// </summary>
    [Fact]
    public void Step_InitialObservationFirst_EqualsAFixedInitialObservationShiftedByOneReading()
    {
        var inputs = RnnFixtures.Inputs();
        var states = RnnFixtures.States("lstm_initial_state_nonzero.csv");
        var first = ModelCatalog.Build(ModelSpec.Parse(Spec("lstm", "double", null, 1, states)));
        var fixedY0 = ModelCatalog.Build(ModelSpec.Parse(Spec("lstm", "double", inputs[1][0][..2], 1, states)));
        var a = new double[first.Info.StateLength];
        var b = new double[fixedY0.Info.StateLength];
        first.Initialize(a, 0);
        fixedY0.Initialize(b, 0);
        var ea = new Estimate(first.Info);
        var eb = new Estimate(fixedY0.Info);

        // The first reading of the "first" stream is x_0[0..2]: only conditions, reports h_0, scores nothing.
        first.Step(a, new Observation(inputs[1][0].AsSpan(0, 2)), ea, default);
        Assert.True(double.IsNaN(ea.LogLikelihood));
        Assert.True(double.IsNaN(ea.NormalizedInnovationSquared));
        Assert.Equal(inputs[1][0][..2], ea.ObservationMean);
        Assert.Equal(states[(1, 1)].H, ea.StateMean);
        for (var t = 0; t < RnnFixtures.Steps - 1; t++)
        {
            var observation = new Observation(inputs[1][t + 1].AsSpan(0, 2), control: [inputs[1][t][2]]);
            first.Step(a, observation, ea, default);
            fixedY0.Step(b, observation, eb, default);
            Assert.Equal(eb.ObservationMean, ea.ObservationMean);
            Assert.Equal(eb.StateMean, ea.StateMean);
            Assert.Equal(eb.LogLikelihood, ea.LogLikelihood);
        }
    }

    [Fact]
    public void Build_InitialObservationOtherString_IsRejected()
    {
        var states = RnnFixtures.States("gru_initial_state_nonzero.csv");
        var json = Spec("gru", "double", null, 0, states).Replace("\"first\"", "\"last\"", StringComparison.Ordinal);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal("initialObservation", e.Field);
        Assert.Contains("\"first\"", e.Message, StringComparison.Ordinal);
    }

    private static string Spec(string model, string precision, double[]? y0, int stream, Dictionary<(int Stream, int Layer), (double[] H, double[]? C)> states)
    {
        var layers = RnnFixtures.Layers(model);
        static string Row(double[] v) => "[" + string.Join(",", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]";
        var hidden = "[" + string.Join(",", Enumerable.Range(0, layers).Select(l => Row(states[(stream, l)].H))) + "]";
        var cell = model == "lstm" ? ",\"initialCell\":[" + string.Join(",", Enumerable.Range(0, layers).Select(l => Row(states[(stream, l)].C!))) + "]" : string.Empty;
        var initial = y0 is null ? "\"first\"" : Row(y0);
        var weights = RnnFixtures.PathOf($"{model}_weights.json").Replace("\\", "\\\\", StringComparison.Ordinal);
        return $$"""
            {"name":"oracle","kind":"recurrent","cell":"{{model}}","inputSize":3,"hiddenSize":8,"layers":{{layers}},"precision":"{{precision}}",
             "controlDimension":1,"weights":"{{weights}}","head":{"type":"point","variance":1},"initialObservation":{{initial}},
             "initialHidden":{{hidden}}{{cell}},"state":"output"}
            """;
    }
}
