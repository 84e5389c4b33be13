using System.Numerics;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>Reproduces PyTorch's LSTM (2 layers, H = 8) and GRU (1 layer) outputs, head outputs and final states.</summary>
public sealed class OracleNetworkTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "lstm", "zeroinit" },
        { "lstm", "nonzeroinit" },
        { "gru", "zeroinit" },
        { "gru", "nonzeroinit" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_DoublePrecision_MatchesTorchFloat64(string model, string init)
    {
        // Measured worst: 2.5e-16 (outputs) and 2.2e-16 (final states) over the four cases, so 1e-14 leaves ~40x.
        var (outputError, finalError) = Run<double>(model, init, "f64");
        Assert.True(outputError < 1e-14, $"max |h, y − torch f64| = {outputError:E3}");
        Assert.True(finalError < 1e-14, $"max |final state − torch f64| = {finalError:E3}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_SinglePrecision_MatchesTorchFloat32(string model, string init)
    {
        // Measured worst: 1.3e-7 (outputs) and 1.8e-7 (final LSTM cell states, |c| > 1, i.e. 1-2 float32 ulps) over the
        // four cases; 3e-7 is the tightest bound that covers them with a margin.
        var (outputError, finalError) = Run<float>(model, init, "f32");
        Assert.True(outputError < 3e-7, $"max |h, y − torch f32| = {outputError:E3}");
        Assert.True(finalError < 3e-7, $"max |final state − torch f32| = {finalError:E3}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StepBatch_OracleStreams_EqualsSingleStreamSteps(string model, string init)
    {
        var weights = RnnFixtures.Weights(model);
        var network = Create<double>(model, weights);
        var head = new LinearHead<double>(weights, RnnFixtures.HiddenSize, RnnFixtures.OutputSize);
        var inputs = RnnFixtures.Inputs();
        var s = network.StateLength;
        var initFile = init == "zeroinit" ? null : $"{model}_initial_state_nonzero.csv";
        var batchStates = new double[RnnFixtures.Streams * s];
        var singleStates = new double[RnnFixtures.Streams * s];
        for (var b = 0; b < RnnFixtures.Streams; b++)
        {
            RnnFixtures.FillState(network, initFile, b, batchStates.AsSpan(b * s, s));
            RnnFixtures.FillState(network, initFile, b, singleStates.AsSpan(b * s, s));
        }

        var x = new double[RnnFixtures.Streams * RnnFixtures.InputSize];
        var yBatch = new double[RnnFixtures.Streams * RnnFixtures.OutputSize];
        var ySingle = new double[RnnFixtures.OutputSize];
        for (var t = 0; t < RnnFixtures.Steps; t++)
        {
            for (var b = 0; b < RnnFixtures.Streams; b++)
            {
                inputs[b][t].CopyTo(x, b * RnnFixtures.InputSize);
                network.Step(inputs[b][t], singleStates.AsSpan(b * s, s));
            }

            network.StepBatch(RnnFixtures.Streams, x, batchStates);
            Assert.Equal(singleStates, batchStates);
            head.EvaluateBatch(RnnFixtures.Streams, batchStates.AsSpan(network.GetHiddenOffset(network.LayerCount - 1)), s, yBatch);
            for (var b = 0; b < RnnFixtures.Streams; b++)
            {
                head.Evaluate(network.GetOutput(singleStates.AsSpan(b * s, s)), ySingle);
                Assert.Equal(ySingle, yBatch.AsSpan(b * RnnFixtures.OutputSize, RnnFixtures.OutputSize).ToArray());
            }
        }
    }

    internal static RecurrentNetwork<T> Create<T>(string model, StateDictionary weights)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        model == "lstm"
            ? new LstmNetwork<T>(weights, RnnFixtures.InputSize, RnnFixtures.HiddenSize, RnnFixtures.Layers(model))
            : new GruNetwork<T>(weights, RnnFixtures.InputSize, RnnFixtures.HiddenSize, RnnFixtures.Layers(model));

    private static (double Output, double Final) Run<T>(string model, string init, string precision)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = RnnFixtures.Weights(model);
        var network = Create<T>(model, weights);
        var head = new LinearHead<T>(weights, RnnFixtures.HiddenSize, RnnFixtures.OutputSize);
        var inputs = RnnFixtures.Inputs();
        var expected = RnnFixtures.Outputs($"{model}_{init}_{precision}_outputs.csv");
        var finals = RnnFixtures.States($"{model}_{init}_{precision}_final_state.csv");
        var initFile = init == "zeroinit" ? null : $"{model}_initial_state_nonzero.csv";

        double outputError = 0, finalError = 0;
        var state = new T[network.StateLength];
        var x = new T[RnnFixtures.InputSize];
        var y = new T[RnnFixtures.OutputSize];
        for (var stream = 0; stream < RnnFixtures.Streams; stream++)
        {
            RnnFixtures.FillState(network, initFile, stream, state);
            for (var t = 0; t < RnnFixtures.Steps; t++)
            {
                for (var k = 0; k < x.Length; k++)
                {
                    x[k] = T.CreateChecked(inputs[stream][t][k]);
                }

                network.Step(x, state);
                head.Evaluate(network.GetOutput(state), y);
                var (h, yExpected) = expected[stream][t];
                outputError = Math.Max(outputError, MaxAbs(network.GetOutput(state), h));
                outputError = Math.Max(outputError, MaxAbs(y, yExpected));
            }

            for (var layer = 0; layer < network.LayerCount; layer++)
            {
                var (h, c) = finals[(stream, layer)];
                finalError = Math.Max(finalError, MaxAbs(state.AsSpan(network.GetHiddenOffset(layer), RnnFixtures.HiddenSize), h));
                if (c is not null)
                {
                    finalError = Math.Max(finalError, MaxAbs(state.AsSpan(network.GetCellOffset(layer), RnnFixtures.HiddenSize), c));
                }
            }
        }

        return (outputError, finalError);
    }

    private static double MaxAbs<T>(ReadOnlySpan<T> actual, double[] expected)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        var max = 0.0;
        for (var k = 0; k < expected.Length; k++)
        {
            var d = Math.Abs(double.CreateChecked(actual[k]) - expected[k]);
            max = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(max, d);
        }

        return max;
    }
}
