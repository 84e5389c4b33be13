using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Recurrent.Training;

namespace StreamSeq.Estimation.Tests.Recurrent.Training;

/// <summary>Analytic BPTT gradients against central finite differences of the same chunk loss.</summary>
public sealed class GradientCheckTests
{
    public static TheoryData<RecurrentCellKind, int, string, int, int> Cases() => new()
    {
        { RecurrentCellKind.Lstm, 1, "diagonal-log-variance", 1, 0 },
        { RecurrentCellKind.Lstm, 2, "diagonal-log-variance", 2, 1 },
        { RecurrentCellKind.Lstm, 2, "cholesky-exp", 2, 0 },
        { RecurrentCellKind.Gru, 1, "diagonal-log-variance", 1, 0 },
        { RecurrentCellKind.Gru, 2, "cholesky-softplus", 3, 1 },
        { RecurrentCellKind.Gru, 3, "point", 2, 0 },
        { RecurrentCellKind.PeepholeLstm, 2, "diagonal-log-variance", 2, 1 },
        { RecurrentCellKind.Elman, 2, "cholesky-exp", 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Chunk_Gradient_MatchesCentralDifferences(RecurrentCellKind cell, int layers, string head, int m, int c)
    {
        var (network, theta, sequence, state, previous) = Setup(cell, layers, head, m, c, ElmanActivation.Tanh, missingEvery: 5);
        var gradient = new double[theta.Length];
        network.Chunk(theta, sequence, 2, 12, state, previous, gradient, out var counted);
        Assert.True(counted > 0);

        var worst = 0.0;
        var worstName = string.Empty;
        foreach (var tensor in network.Parameters.Tensors)
        {
            for (var i = 0; i < tensor.Length; i++)
            {
                var k = tensor.Offset + i;
                var saved = theta[k];
                const double step = 1e-5;
                theta[k] = saved + step;
                var up = network.Chunk(theta, sequence, 2, 12, state, previous, default, out _);
                theta[k] = saved - step;
                var down = network.Chunk(theta, sequence, 2, 12, state, previous, default, out _);
                theta[k] = saved;
                var numeric = (up - down) / (2 * step);
                var error = Math.Abs(numeric - gradient[k]) / Math.Max(1.0, Math.Abs(numeric));
                if (error > worst)
                {
                    worst = error;
                    worstName = $"{tensor.Name}[{i}] analytic {gradient[k]:R} numeric {numeric:R}";
                }
            }
        }

        Assert.True(worst < 1e-6, $"largest relative gradient error {worst:G3} at {worstName}");
    }

    [Fact]
    public void Chunk_ReluElmanGradient_MatchesCentralDifferencesAwayFromKinks()
    {
        var (network, theta, sequence, state, previous) = Setup(RecurrentCellKind.Elman, 1, "diagonal-log-variance", 1, 0, ElmanActivation.Relu, missingEvery: 0);
        var gradient = new double[theta.Length];
        network.Chunk(theta, sequence, 0, 8, state, previous, gradient, out _);
        for (var k = 0; k < theta.Length; k++)
        {
            var saved = theta[k];
            const double step = 1e-6;
            theta[k] = saved + step;
            var up = network.Chunk(theta, sequence, 0, 8, state, previous, default, out _);
            theta[k] = saved - step;
            var down = network.Chunk(theta, sequence, 0, 8, state, previous, default, out _);
            theta[k] = saved;
            var numeric = (up - down) / (2 * step);
            Assert.True(Math.Abs(numeric - gradient[k]) < 1e-5 * Math.Max(1.0, Math.Abs(numeric)), $"parameter {k}: analytic {gradient[k]}, numeric {numeric}");
        }
    }

    [Theory]
    [InlineData(RecurrentCellKind.Lstm, "diagonal-log-variance")]
    [InlineData(RecurrentCellKind.Gru, "cholesky-exp")]
    [InlineData(RecurrentCellKind.PeepholeLstm, "point")]
    [InlineData(RecurrentCellKind.Elman, "cholesky-softplus")]
    public void Pass_LogLikelihood_EqualsTheEstimatorRunWithTheExportedWeights(RecurrentCellKind cell, string head)
    {
        const int m = 2;
        const int c = 1;
        var (network, theta, sequence, _, _) = Setup(cell, 2, head, m, c, ElmanActivation.Tanh, missingEvery: 4);
        var chunks = BpttTrainer.Chunks([sequence], 8);
        var pass = BpttTrainer.Pass(network, theta, [sequence], chunks, new double[chunks.Length * network.StateSize], new double[chunks.Length * m]);

        // The same model through the inference path: exported tensors, the managed engine, the estimator.
        var weights = network.Parameters.Export(theta);
        var shape = network.Shape;
        var backend = RecurrentSpec.Create<double>(shape, weights, network.Layout.HeadOutputSize, "head");
        var estimator = new RecurrentEstimator(backend, network.Layout);
        var raw = Denormalise(sequence, network.Layout);
        var total = StreamSeq.Estimation.Learning.LogLikelihood.Evaluate(estimator, [raw]);
        Assert.Equal(total, pass.LogLikelihood, 9);
    }

    internal static (TrainableNetwork Network, double[] Theta, TrainingSequence Sequence, double[] State, double[] Previous) Setup(
        RecurrentCellKind cell, int layers, string head, int m, int c, ElmanActivation activation, int missingEvery)
    {
        var layout = head switch
        {
            "point" => new RecurrentLayout(m, c, RecurrentHeadType.Point, pointVariance: [.. Enumerable.Range(0, m).Select(j => 0.5 + (0.25 * j))], observationMean: [.. Enumerable.Repeat(0.3, m)], observationScale: [.. Enumerable.Repeat(1.7, m)]),
            _ => new RecurrentLayout(m, c, RecurrentHeadType.Gaussian, head switch
            {
                "cholesky-exp" => GaussianCovarianceForm.CholeskyExp,
                "cholesky-softplus" => GaussianCovarianceForm.CholeskySoftplus,
                _ => GaussianCovarianceForm.DiagonalLogVariance,
            }, observationMean: [.. Enumerable.Repeat(-0.2, m)], observationScale: [.. Enumerable.Repeat(0.8, m)], controlMean: c > 0 ? [0.1] : null, controlScale: c > 0 ? [2.0] : null),
        };
        var shape = new RecurrentNetworkShape(cell, m + c, 4, layers, false, activation);
        var network = new TrainableNetwork(shape, layout);
        var theta = new double[network.Parameters.Count];
        var random = ParticleRandom.FromSeed(42);
        network.Parameters.Initialize(theta, ref random);
        for (var i = 0; i < theta.Length; i++)
        {
            theta[i] *= 2.5;
        }

        const int length = 20;
        var values = new double[length * m];
        var controls = new double[length * c];
        var noise = new Random(7);
        for (var t = 0; t < length; t++)
        {
            for (var j = 0; j < m; j++)
            {
                values[(t * m) + j] = missingEvery > 0 && (t + j) % missingEvery == 3 ? double.NaN : Math.Sin((0.7 * t) + j) + (0.3 * noise.NextDouble());
            }

            for (var k = 0; k < c; k++)
            {
                controls[(t * c) + k] = noise.NextDouble() - 0.5;
            }
        }

        var sequence = new TrainingSequence(values, controls, length, length);
        var state = new double[network.StateSize];
        for (var i = 0; i < state.Length; i++)
        {
            state[i] = 0.3 * (noise.NextDouble() - 0.5);
        }

        var previous = new double[m];
        previous[0] = 0.4;
        return (network, theta, sequence, state, previous);
    }

    private static ObservationSeries Denormalise(TrainingSequence sequence, RecurrentLayout layout)
    {
        var m = layout.ObservationDimension;
        var c = layout.ControlDimension;
        var values = new double[sequence.Length * m];
        var controls = new double[sequence.Length * c];
        for (var t = 0; t < sequence.Length; t++)
        {
            for (var j = 0; j < m; j++)
            {
                var v = sequence.Values[(t * m) + j];
                values[(t * m) + j] = double.IsNaN(v) ? double.NaN : layout.ObservationMean[j] + (layout.ObservationScale[j] * v);
            }

            for (var k = 0; k < c; k++)
            {
                controls[(t * c) + k] = layout.ControlMean[k] + (layout.ControlScale[k] * sequence.Controls[(t * c) + k]);
            }
        }

        return new ObservationSeries(m, values, null, c > 0 ? controls : null, c);
    }
}
