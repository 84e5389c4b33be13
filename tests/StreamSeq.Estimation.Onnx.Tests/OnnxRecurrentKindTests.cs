using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Onnx.Tests;

/// <summary>The <c>onnx-recurrent</c> spec kind started from a given h_0/c_0 (<c>initialHidden</c>, <c>initialCell</c>)
/// against PyTorch's float32 runs from the same non-zero state.</summary>
public sealed class OnnxRecurrentKindTests
{
    [Fact]
    public void Build_InitialHiddenAndCellInSpec_PredictPyTorchsOutputsFromNonZeroState()
    {
        var kind = new OnnxRecurrentKind();
        var inputs = OracleFiles.Inputs();
        var states = OracleFiles.ReadCsv("lstm_initial_state_nonzero.csv");
        var expected = OracleFiles.ReadCsv("lstm_nonzeroinit_f32_outputs.csv");
        for (var s = 0; s < OracleFiles.Streams; s++)
        {
            string Rows(string prefix) => "[" + string.Join(",", states.Where(r => (int)r["stream"] == s).OrderBy(r => r["layer"])
                .Select(r => "[" + string.Join(",", OracleFiles.Row(r, prefix, OracleFiles.Hidden).Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]")) + "]";
            var model = OracleFiles.PathOf("lstm_model.onnx").Replace("\\", "\\\\", StringComparison.Ordinal);
            var json = $$"""
                {"name":"onnx","kind":"onnx-recurrent","model":"{{model}}","controlDimension":1,"head":{"type":"point","variance":1},
                 "initialObservation":[{{inputs[s][0][0].ToString("R", CultureInfo.InvariantCulture)}},{{inputs[s][0][1].ToString("R", CultureInfo.InvariantCulture)}}],
                 "initialHidden":{{Rows("h")}},"initialCell":{{Rows("c")}},"state":"output"}
                """;
            var reader = ModelSpec.Parse(json).Reader();
            var estimator = kind.Build(reader);
            reader.EnsureAllFieldsKnown();
            try
            {
                var state = new double[estimator.Info.StateLength];
                estimator.Initialize(state, 0);
                var estimate = new Estimate(estimator.Info);
                var want = expected.Where(r => (int)r["stream"] == s).OrderBy(r => r["t"]).ToList();
                for (var t = 0; t < OracleFiles.Steps - 1; t++)
                {
                    double[] y = [inputs[s][t + 1][0], inputs[s][t + 1][1]];
                    estimator.Step(state, new Observation(y, control: [inputs[s][t][2]]), estimate, default);
                    var w = OracleFiles.Row(want[t], "y", 2);

                    // ONNX Runtime vs torch float32 outputs differ by at most 1.3e-7 (OnnxRecurrentModelTests), so 3e-7.
                    Assert.Equal(w[0], estimate.ObservationMean[0], 3e-7);
                    Assert.Equal(w[1], estimate.ObservationMean[1], 3e-7);
                }
            }
            finally
            {
                (estimator as IDisposable)?.Dispose();
            }
        }
    }
}
