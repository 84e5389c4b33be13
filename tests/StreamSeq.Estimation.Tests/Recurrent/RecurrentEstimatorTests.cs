using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Recurrent;

public sealed class RecurrentEstimatorTests
{
    private const double Log2Pi = 1.8378770664093453;

    /// <summary>
    /// The oracle LSTM reads x_t = [a_t, b_t, u_t]: as an estimator with m = 2 and one control, y_{t-1} = (a_t, b_t)
    /// and u_t = u_t, so feeding y_t = x_{t+1}[0..2] reproduces PyTorch's head output as the predicted mean.
    /// </summary>
    [Theory]
    // The network against torch (OracleNetworkTests): float64 within 2.5e-16, float32 within 1.8e-7; hence 1e-14 and 3e-7.
    [InlineData("lstm", false, 1e-14)]
    [InlineData("gru", false, 1e-14)]
    [InlineData("lstm", true, 3e-7)]
    [InlineData("gru", true, 3e-7)]
    public void Step_OracleNetWithPointHead_PredictedMeanIsPyTorchsOutput(string model, bool single, double tolerance)
    {
        var weights = RnnFixtures.Weights(model);
        var inputs = RnnFixtures.Inputs();
        var expected = RnnFixtures.Outputs($"{model}_zeroinit_{(single ? "f32" : "f64")}_outputs.csv");
        var shape = new RecurrentNetworkShape(model == "lstm" ? RecurrentCellKind.Lstm : RecurrentCellKind.Gru, 3, 8, RnnFixtures.Layers(model), single);
        for (var s = 0; s < RnnFixtures.Streams; s++)
        {
            var layout = new RecurrentLayout(2, 1, RecurrentHeadType.Point, pointVariance: [1.0, 1.0], initialObservation: inputs[s][0][..2]);
            var backend = single ? RecurrentSpec.Create<float>(shape, weights, 2, "head") : RecurrentSpec.Create<double>(shape, weights, 2, "head");
            var estimator = new RecurrentEstimator(backend, layout, RecurrentStateView.Output);
            var state = new double[estimator.Info.StateLength];
            estimator.Initialize(state, 0);
            var estimate = new Estimate(estimator.Info);
            for (var t = 0; t < RnnFixtures.Steps - 1; t++)
            {
                var y = inputs[s][t + 1][..2];
                estimator.Step(state, new Observation(y, control: [inputs[s][t][2]]), estimate, default);
                Expect.Close(expected[s][t].Y, estimate.ObservationMean, tolerance, $"stream {s} step {t} mean");
                Expect.Close(expected[s][t].H, estimate.StateMean, tolerance, $"stream {s} step {t} h");

                // Independent density: two unit-variance normals around PyTorch's output.
                var d0 = y[0] - expected[s][t].Y[0];
                var d1 = y[1] - expected[s][t].Y[1];
                Expect.Close(-Log2Pi - (0.5 * ((d0 * d0) + (d1 * d1))), estimate.LogLikelihood, 10 * tolerance, "logLik");
                Expect.Close((d0 * d0) + (d1 * d1), estimate.NormalizedInnovationSquared, 10 * tolerance, "nis");
                Assert.Equal(2, estimate.ObservedCount);
            }
        }
    }

    [Theory]
    [InlineData(GaussianCovarianceForm.DiagonalLogVariance)]
    [InlineData(GaussianCovarianceForm.CholeskyExp)]
    [InlineData(GaussianCovarianceForm.CholeskySoftplus)]
    public void Step_GaussianHeadWithNormalization_MatchesTheEngineHeadDensityInNormalisedUnits(GaussianCovarianceForm form)
    {
        const int m = 3;
        var random = new Random(11);
        var weights = RandomWeights.Create(5, 3, m, 6, 1);
        var outputs = m + (form == GaussianCovarianceForm.DiagonalLogVariance ? m : m * (m + 1) / 2);
        var withHead = new StateDictionary([.. weights.Tensors, RandomWeights.Tensor(random, "head.weight", 0.4, outputs, 6), RandomWeights.Tensor(random, "head.bias", 0.4, outputs)]);
        double[] mean = [1.0, -2.0, 0.5];
        double[] scale = [2.0, 0.5, 3.0];
        var layout = new RecurrentLayout(m, 0, RecurrentHeadType.Gaussian, form, observationMean: mean, observationScale: scale);
        var estimator = new RecurrentEstimator(RecurrentSpec.Create<double>(new RecurrentNetworkShape(RecurrentCellKind.Gru, m, 6, 1, false), withHead, outputs, "head"), layout);

        // Reference: the engine's network and GaussianHead, fed normalised inputs by hand.
        var network = new GruNetwork<double>(withHead, m, 6);
        var head = new GaussianHead<double>(withHead, 6, m, form);
        var h = new double[network.StateLength];
        var u = new double[head.OutputSize];
        var cov = new double[m * m];
        var x = new double[m];
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(estimator.Info);
        for (var t = 0; t < 30; t++)
        {
            var y = new double[m];
            for (var j = 0; j < m; j++)
            {
                y[j] = t % 7 == 3 && j == 1 ? double.NaN : mean[j] + (scale[j] * Math.Sin((0.4 * t) + j));
            }

            estimator.Step(state, new Observation(y), estimate, default);
            network.Step(x, h);
            head.Evaluate(network.GetOutput(h), u);
            head.GetCovariance(u, cov);
            var yNorm = new double[m];
            var logScale = 0.0;
            for (var j = 0; j < m; j++)
            {
                Expect.Close(mean[j] + (scale[j] * u[j]), estimate.ObservationMean[j], 1e-12, $"t={t} mean[{j}]");
                for (var k = 0; k < m; k++)
                {
                    Expect.Close(scale[j] * scale[k] * cov[(j * m) + k], estimate.ObservationCovariance[(j * m) + k], 1e-12, $"t={t} cov[{j},{k}]");
                }

                yNorm[j] = double.IsNaN(y[j]) ? double.NaN : (y[j] - mean[j]) / scale[j];
                logScale += double.IsNaN(y[j]) ? 0.0 : Math.Log(scale[j]);
                x[j] = double.IsNaN(y[j]) ? u[j] : yNorm[j];
            }

            Expect.Close(head.LogDensity(u, yNorm) - logScale, estimate.LogLikelihood, 1e-11, $"t={t} logLik");
            Assert.Equal(t % 7 == 3 ? 2 : 3, estimate.ObservedCount);
        }
    }

    [Fact]
    public void Step_WhollyMissing_PredictsOnlyAndFeedsBackThePredictedMean()
    {
        var estimator = TestEstimator(RecurrentCellKind.Lstm, 1, 0);
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 3);
        var estimate = new Estimate(estimator.Info);
        estimator.Step(state, new Observation([0.7]), estimate, default);
        var copy = (double[])state.Clone();

        estimator.Step(state, new Observation([double.NaN]), estimate, default);
        Assert.True(double.IsNaN(estimate.LogLikelihood));
        Assert.True(double.IsNaN(estimate.NormalizedInnovationSquared));
        Assert.Equal(0, estimate.ObservedCount);
        Assert.All(estimate.ObservationMean, v => Assert.True(double.IsFinite(v)));
        var predicted = estimate.ObservationMean[0];

        // Observing exactly the predicted mean instead leads to the same next prediction.
        estimator.Step(copy, new Observation([predicted]), estimate, default);
        Assert.Equal(predicted, estimate.ObservationMean[0]);
        estimator.Step(state, new Observation([1.0]), estimate, default);
        var viaMissing = estimate.ObservationMean[0];
        estimator.Step(copy, new Observation([1.0]), estimate, default);
        Assert.Equal(viaMissing, estimate.ObservationMean[0]);
    }

    [Fact]
    public void Forecast_MeanFeedback_EqualsSteppingWithMissingObservationsAndLeavesTheStateUnchanged()
    {
        var estimator = TestEstimator(RecurrentCellKind.Gru, 2, 2);
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 9);
        var estimate = new Estimate(estimator.Info);
        for (var t = 0; t < 15; t++)
        {
            estimator.Step(state, new Observation([Math.Sin(t), Math.Cos(t)]), estimate, default);
        }

        var before = (double[])state.Clone();
        var forecast = new Forecast(estimator.Info, 4);
        estimator.Forecast(state, 1.0, forecast);
        Assert.Equal(before, state);

        var copy = (double[])state.Clone();
        for (var k = 1; k <= 4; k++)
        {
            estimator.Step(copy, new Observation([double.NaN, double.NaN]), estimate, default);
            Assert.Equal(estimate.ObservationMean, forecast.ObservationMeanAt(k).ToArray());
            Assert.Equal(estimate.ObservationCovariance, forecast.ObservationCovarianceAt(k).ToArray());
            Assert.Equal(estimate.StateMean, forecast.StateMeanAt(k).ToArray());
        }
    }

    [Fact]
    public void Forecast_MonteCarlo_IsReproducibleMatchesHorizonOneAndWidensLaterHorizons()
    {
        var mean = TestEstimator(RecurrentCellKind.Lstm, 1, 0, forecastSamples: 0, weightScale: 1.2);
        var sampled = TestEstimator(RecurrentCellKind.Lstm, 1, 0, forecastSamples: 4000, weightScale: 1.2);
        var state = new double[mean.Info.StateLength];
        mean.Initialize(state, 77);
        var estimate = new Estimate(mean.Info);
        for (var t = 0; t < 20; t++)
        {
            mean.Step(state, new Observation([Math.Sin(0.5 * t)]), estimate, default);
        }

        var a = new Forecast(mean.Info, 5);
        var b = new Forecast(sampled.Info, 5);
        var c = new Forecast(sampled.Info, 5);
        mean.Forecast(state, 1.0, a);
        sampled.Forecast(state, 1.0, b);
        sampled.Forecast(state, 1.0, c);
        Assert.Equal(b.ObservationMean, c.ObservationMean);
        Assert.Equal(b.ObservationCovariance, c.ObservationCovariance);

        // Horizon 1 does not depend on any draw: every trajectory has the same prediction.
        Expect.Close(a.ObservationMeanAt(1)[0], b.ObservationMeanAt(1)[0], 1e-12, "h1 mean");
        Expect.Close(a.ObservationCovarianceAt(1)[0], b.ObservationCovarianceAt(1)[0], 1e-12, "h1 variance");

        // Later horizons add the spread of the fed-back samples to the head's variance.
        for (var k = 2; k <= 5; k++)
        {
            Assert.True(b.ObservationCovarianceAt(k)[0] > 0.0);
            Assert.True(b.StateCovarianceAt(k)[0] > 0.0, $"state variance at horizon {k}");
        }

        // A different stream seed gives different draws but the same distribution (4000 trajectories).
        var other = (double[])state.Clone();
        sampled.Initialize(other, 78);
        state.AsSpan(3).CopyTo(other.AsSpan(3));
        sampled.Forecast(other, 1.0, c);
        Assert.NotEqual(b.ObservationMeanAt(3)[0], c.ObservationMeanAt(3)[0]);
        Expect.Close(b.ObservationMeanAt(3)[0], c.ObservationMeanAt(3)[0], 0.0, "h3 mean across seeds", absTol: 0.1 * Math.Sqrt(b.ObservationCovarianceAt(3)[0]));
    }

    [Fact]
    public void Step_CopiedStateMidStream_ContinuesBitIdentically()
    {
        var estimator = TestEstimator(RecurrentCellKind.PeepholeLstm, 2, 1, single: true);
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 5);
        var estimate = new Estimate(estimator.Info);
        for (var t = 0; t < 10; t++)
        {
            estimator.Step(state, new Observation([Math.Sin(t), t % 3 == 0 ? double.NaN : Math.Cos(t)], control: [0.1 * t]), estimate, default);
        }

        var copy = state.ToArray();
        var other = new Estimate(estimator.Info);
        for (var t = 10; t < 30; t++)
        {
            var y = new[] { Math.Sin(t), Math.Cos(t) };
            estimator.Step(state, new Observation(y, control: [0.1 * t]), estimate, default);
            estimator.Step(copy, new Observation(y, control: [0.1 * t]), other, default);
            Assert.Equal(estimate.ObservationMean, other.ObservationMean);
            Assert.Equal(estimate.LogLikelihood, other.LogLikelihood);
            Assert.Equal(state, copy);
        }
    }

    /// <summary>A ReLU Elman cell with recurrent gain 10: its state grows by 10x per step until it overflows.</summary>
    private static IRecurrentBackend ExplodingNet()
    {
        var weights = new StateDictionary(
        [
            NamedTensor.Create<double>("weight_ih_l0", [2, 1], [1.0, 1.0]),
            NamedTensor.Create<double>("weight_hh_l0", [2, 2], [10.0, 0.0, 0.0, 10.0]),
            NamedTensor.Create<double>("bias_ih_l0", [2], [1.0, 1.0]),
            NamedTensor.Create<double>("bias_hh_l0", [2], [0.0, 0.0]),
            NamedTensor.Create<double>("head.weight", [2, 2], [1e-3, 0.0, 0.0, 0.0]),
            NamedTensor.Create<double>("head.bias", [2], [0.0, 0.0]),
        ]);
        return RecurrentSpec.Create<double>(new RecurrentNetworkShape(RecurrentCellKind.Elman, 1, 2, 1, false, ElmanActivation.Relu), weights, 2, "head");
    }

    [Fact]
    public void Step_ExplodingNet_ResetsCountsAndNeverEmitsNonFiniteValues()
    {
        var backend = ExplodingNet();
        var estimator = new RecurrentEstimator(backend, new RecurrentLayout(1));
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(estimator.Info);
        var resets = 0;
        for (var t = 0; t < 1000; t++)
        {
            estimator.Step(state, new Observation([1.0]), estimate, default);
            if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
            {
                resets++;
                Assert.True(double.IsNaN(estimate.LogLikelihood));
            }
            else
            {
                // Finite but huge activations may make the observation impossible (−∞), never NaN.
                Assert.False(double.IsNaN(estimate.LogLikelihood));
            }

            Assert.All(estimate.StateMean, v => Assert.True(double.IsFinite(v)));
            Assert.All(estimate.ObservationMean, v => Assert.True(double.IsFinite(v)));
            Assert.All(estimate.ObservationCovariance, v => Assert.True(double.IsFinite(v)));
            Assert.Equal(resets, estimate.Extras[0]);
        }

        Assert.True(resets >= 3, $"resets {resets}");
        Assert.Equal(resets, RecurrentEstimator.Resets(state));
    }

    [Fact]
    public void FixedLagSmoother_ExplodingNet_EveryStepIncludingTheResetsSmoothedOnceToItsFilteredState()
    {
        // The exploding ReLU Elman cell (ExplodingNet): a reset restarts the net from h_0 with the initial input, and that fresh
        // state is what every later step descends from, so the reset step is smoothed as a stream's first step is (the
        // smoothed state of a deterministic net is its filtered state).
        var backend = ExplodingNet();
        var smoother = new FixedLagSmoother(new RecurrentEstimator(backend, new RecurrentLayout(1)), 3);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var estimate = new Estimate(smoother.Info);
        var filtered = new List<double[]>();
        var smoothed = new List<(double Time, double[] Mean)>();
        var resets = 0;
        for (var t = 0; t < 1000; t++)
        {
            smoother.Step(state, new Observation([1.0], 1.0, t), estimate, default);
            resets += (estimate.Flags & EstimateFlags.Reinitialized) != 0 ? 1 : 0;
            filtered.Add(estimate.StateMean.ToArray());
            for (var i = 0; i < estimate.FlushedCount; i++)
            {
                smoothed.Add((estimate.FlushedTime(i), estimate.FlushedMean(i).ToArray()));
            }

            if (estimate.HasSmoothed)
            {
                smoothed.Add((estimate.SmoothedTime, estimate.SmoothedMean.ToArray()));
            }
        }

        smoothed.AddRange(smoother.SmoothPending(state).Select(p => (p.Time, p.Mean)));
        Assert.True(resets >= 3, $"resets {resets}");
        Assert.Equal([.. Enumerable.Range(0, 1000).Select(t => (double)t)], smoothed.Select(s => s.Time));
        for (var t = 0; t < 1000; t++)
        {
            Assert.Equal(filtered[t], smoothed[t].Mean);
        }
    }

    [Fact]
    public void FixedLagSmoother_DeterministicNet_SmoothedStateIsTheFilteredStateLStepsBack()
    {
        var estimator = TestEstimator(RecurrentCellKind.Lstm, 1, 0);
        var smoother = new FixedLagSmoother(estimator, 3);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var estimate = new Estimate(smoother.Info);
        var filtered = new List<double[]>();
        for (var t = 0; t < 12; t++)
        {
            smoother.Step(state, new Observation([Math.Sin(t)], time: t), estimate, default);
            filtered.Add(estimate.StateMean.ToArray());
            Assert.Equal(t >= 3, estimate.HasSmoothed);
            if (estimate.HasSmoothed)
            {
                Assert.Equal(t - 3, estimate.SmoothedTime);
                Assert.Equal(filtered[t - 3], estimate.SmoothedMean);
            }
        }
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(false, 2)]
    public void Step_SteadyState_AllocatesNothing(bool single, int controls)
    {
        var estimator = TestEstimator(RecurrentCellKind.Lstm, 2, controls, single: single);
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(estimator.Info);
        var record = new double[estimator.Info.BackwardRecordLength];
        double[] y = [0.3, double.NaN];
        var u = new double[controls];
        for (var t = 0; t < 50; t++)
        {
            estimator.Step(state, new Observation(y, control: u), estimate, record);
        }

        Assert.Equal(0, SteadyStateAllocation.Fewest(() =>
        {
            for (var t = 0; t < 500; t++)
            {
                estimator.Step(state, new Observation(y, control: u), estimate, record);
            }
        }));
    }

    internal static RecurrentEstimator TestEstimator(RecurrentCellKind cell, int m, int controls, bool single = false, int forecastSamples = 0, double weightScale = 0.5)
    {
        var gates = cell switch
        {
            RecurrentCellKind.Lstm or RecurrentCellKind.PeepholeLstm => 4,
            RecurrentCellKind.Gru => 3,
            _ => 1,
        };
        const int hidden = 5;
        var random = new Random(17);
        var weights = RandomWeights.Create(21, gates, m + controls, hidden, 2, peephole: cell == RecurrentCellKind.PeepholeLstm, scale: weightScale);
        var outputs = 2 * m;
        var all = new StateDictionary([.. weights.Tensors, RandomWeights.Tensor(random, "head.weight", 0.5, outputs, hidden), RandomWeights.Tensor(random, "head.bias", 0.5, outputs)]);
        var shape = new RecurrentNetworkShape(cell, m + controls, hidden, 2, single);
        var backend = single ? RecurrentSpec.Create<float>(shape, all, outputs, "head") : RecurrentSpec.Create<double>(shape, all, outputs, "head");
        return new RecurrentEstimator(backend, new RecurrentLayout(m, controls), forecastSamples: forecastSamples);
    }
}
