using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>Equivalences and properties of the online HMM filter.</summary>
public sealed class HiddenMarkovFilterTests
{
    private const int K = 3;

    [Fact]
    public void Step_MeansWhoseSecondMomentsOverflow_ObservationVarianceIsInfiniteNeverNaN()
    {
        // E[y²] of the two outer states is above the largest double, and every state keeps a positive predicted
        // probability (unequal for the outer two, so the predictive mean is of order 1e298 and its square overflows
        // too), so the predictive variance of y (a mixture of states 1e300 apart) is +∞ at every step, whichever
        // code path (the vectorised one for up to four Gaussian states, or the general one) computes it.
        var model = new HiddenMarkovModel(
            [0.5, 0.3, 0.2],
            [0.9, 0.07, 0.03, 0.05, 0.9, 0.05, 0.04, 0.06, 0.9],
            new GaussianEmission([1e300, -1e300, 0.0], [1.0, 1.0, 1.0]));
        var filter = new HiddenMarkovFilter(model);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        double[] readings = [0.5, -0.2, 1.0, 0.0, 2.0, -1.0];
        for (var t = 0; t < readings.Length; t++)
        {
            filter.Step(state, new Observation([readings[t]]), est, default);

            Assert.All(est.PredictedMean.ToArray(), p => Assert.True(p > 0.0, $"t={t}: predicted probability {p}"));
            Assert.Equal(double.PositiveInfinity, est.ObservationCovariance[0]);
            Assert.False(double.IsNaN(est.NormalizedInnovationSquared), $"t={t}: NIS is NaN");
        }
    }

    [Fact]
    public void FixedLagSmoother_LagAtLeastLength_EqualsForwardBackward()
    {
        var data = HmmOracle.Data(40);
        var smoother = new FixedLagSmoother(new HiddenMarkovFilter(HmmOracle.Model()), 45);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var est = new Estimate(smoother.Info);
        for (var t = 0; t < data.Length; t++)
        {
            smoother.Step(state, data.At(t), est, default);
            Assert.False(est.HasSmoothed);
        }

        var pending = smoother.SmoothPending(state);
        var post = HmmInference.ForwardBackward(HmmOracle.Model(), data);
        Assert.Equal(data.Length, pending.Count);
        for (var t = 0; t < data.Length; t++)
        {
            Assert.Equal(t, (int)pending[t].Time);
            Expect.Close(post.Smoothed.AsSpan(t * K, K), pending[t].Mean, 1e-12, $"t={t} smoothed");
        }
    }

    [Fact]
    public void FixedLagSmoother_LagFour_EqualsForwardBackwardOnEachPrefix()
    {
        const int lag = 4;
        var data = HmmOracle.Data(60);
        var smoother = new FixedLagSmoother(new HiddenMarkovFilter(HmmOracle.Model()), lag);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var est = new Estimate(smoother.Info);
        for (var t = 0; t < data.Length; t++)
        {
            smoother.Step(state, data.At(t), est, default);
            Assert.Equal(t >= lag, est.HasSmoothed);
            if (!est.HasSmoothed)
            {
                continue;
            }

            var target = t - lag;
            Assert.Equal(target, (int)est.SmoothedTime);
            var post = HmmInference.ForwardBackward(HmmOracle.Model(), HmmOracle.Data(t + 1));
            Expect.Close(post.Smoothed.AsSpan(target * K, K), est.SmoothedMean, 1e-12, $"t={t} lag-{lag} smoothed");
        }
    }

    [Fact]
    public void Step_CopiedState_ContinuesBitIdentically()
    {
        var filter = new FixedLagSmoother(new HiddenMarkovFilter(HmmOracle.Model(), viterbiWindow: 10), 3);
        var data = HmmOracle.Data();
        var original = new double[filter.Info.StateLength];
        filter.Initialize(original, 0);
        var a = new Estimate(filter.Info);
        var b = new Estimate(filter.Info);
        for (var t = 0; t < 150; t++)
        {
            filter.Step(original, data.At(t), a, default);
        }

        var copy = (double[])original.Clone();
        for (var t = 150; t < data.Length; t++)
        {
            filter.Step(original, data.At(t), a, default);
            filter.Step(copy, data.At(t), b, default);
            AssertBitIdentical(a, b, t);
        }

        Assert.Equal(original.Select(BitConverter.DoubleToInt64Bits), copy.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void Forecast_Horizons_EqualStepsWithMissingObservations()
    {
        var filter = new HiddenMarkovFilter(HmmOracle.Model());
        var data = HmmOracle.Data(25);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        for (var t = 0; t < data.Length; t++)
        {
            filter.Step(state, data.At(t), est, default);
        }

        var forecast = new Forecast(filter.Info, 6);
        filter.Forecast(state, 1.0, forecast);
        var ahead = (double[])state.Clone();
        double[] missing = [double.NaN];
        for (var h = 1; h <= 6; h++)
        {
            filter.Step(ahead, new Observation(missing), est, default);
            Assert.True(double.IsNaN(est.LogLikelihood));
            Expect.Close(est.PredictedMean, forecast.StateMeanAt(h), 1e-14, $"h={h} state mean");
            Expect.Close(est.PredictedCovariance, forecast.StateCovarianceAt(h), 1e-14, $"h={h} state cov");
            Expect.Close(est.ObservationMean, forecast.ObservationMeanAt(h), 1e-14, $"h={h} obs mean");
            Expect.Close(est.ObservationCovariance, forecast.ObservationCovarianceAt(h), 1e-14, $"h={h} obs cov");
        }
    }

    [Fact]
    public void Forecast_BeforeFirstObservation_StartsFromInitialProbabilities()
    {
        var filter = new HiddenMarkovFilter(HmmOracle.Model());
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var forecast = new Forecast(filter.Info, 2);
        filter.Forecast(state, 1.0, forecast);
        Expect.Close(HmmOracle.Pi, forecast.StateMeanAt(1), 1e-15, "h=1");
        var expected = new double[K];
        for (var j = 0; j < K; j++)
        {
            for (var i = 0; i < K; i++)
            {
                expected[j] += HmmOracle.Pi[i] * HmmOracle.A[(i * K) + j];
            }
        }

        Expect.Close(expected, forecast.StateMeanAt(2), 1e-15, "h=2");
    }

    [Fact]
    public void Step_ObservationOutsideSupport_IsSkippedAndFlagged()
    {
        var model = new HiddenMarkovModel([0.5, 0.5], [0.9, 0.1, 0.1, 0.9], new CategoricalEmission([0.5, 0.5, 0.0, 0.2, 0.3, 0.5], 3));
        var filter = new HiddenMarkovFilter(model);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        filter.Step(state, new Observation([1.5]), est, default);
        Assert.Equal(EstimateFlags.ObservationSkipped, est.Flags);
        Assert.Equal(double.NegativeInfinity, est.LogLikelihood);
        Expect.Close([0.5, 0.5], est.StateMean, 0, "unchanged");

        // Category 2 is impossible in state 0 only: a normal update that rules state 0 out.
        filter.Step(state, new Observation([2.0]), est, default);
        Assert.Equal(EstimateFlags.None, est.Flags);
        Assert.Equal(0.0, est.StateMean[0]);
        Assert.Equal(1.0, est.StateMean[1]);

        // With state 0 ruled out, category 2 is still possible; an index beyond the categories is not.
        filter.Step(state, new Observation([3.0]), est, default);
        Assert.Equal(EstimateFlags.ObservationSkipped, est.Flags);
        Assert.All(est.StateMean, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Step_ImpossibleInEveryLiveState_SkipsWithMinusInfinity()
    {
        var model = new HiddenMarkovModel([1.0, 0.0], [1.0, 0.0, 0.0, 1.0], new CategoricalEmission([1.0, 0.0, 0.0, 1.0], 2));
        var filter = new HiddenMarkovFilter(model);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        filter.Step(state, new Observation([1.0]), est, default);
        Assert.Equal(EstimateFlags.ObservationSkipped, est.Flags);
        Assert.Equal(double.NegativeInfinity, est.LogLikelihood);
        Expect.Close([1.0, 0.0], est.StateMean, 0, "kept prediction");

        // Scored as the Kalman filters score a reading their update cannot use: the reading counts as observed and its
        // NIS is +infinity, so an NIS rule fires as a log-likelihood rule does (NaN fired neither).
        Assert.Equal(double.PositiveInfinity, est.NormalizedInnovationSquared);
        Assert.Equal(1, est.ObservedCount);
    }

    [Fact]
    public void Step_GaussianReadingWhoseDistanceOverflowsInEveryState_IsScoredAsTheKalmanFilterScoresIt()
    {
        var filter = new HiddenMarkovFilter(new HiddenMarkovModel([0.5, 0.5], [0.9, 0.1, 0.1, 0.9], new GaussianEmission([0.0, 1.0], [1.0, 2.0])));
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        filter.Step(state, new Observation([0.5]), est, default);

        filter.Step(state, new Observation([1e200]), est, default);

        Assert.Equal(EstimateFlags.ObservationSkipped, est.Flags);
        Assert.Equal(double.NegativeInfinity, est.LogLikelihood);
        Assert.Equal(double.PositiveInfinity, est.NormalizedInnovationSquared);
        Assert.Equal(1, est.ObservedCount);
        Assert.Equal(est.PredictedMean, est.StateMean);
    }

    [Fact]
    public void Step_RandomModels_ProbabilitiesStayDistributions()
    {
        var rng = new Random(7);
        for (var trial = 0; trial < 20; trial++)
        {
            var k = rng.Next(1, 6);
            var pi = RandomDistribution(rng, k);
            var a = Enumerable.Range(0, k).SelectMany(_ => RandomDistribution(rng, k)).ToArray();
            var mu = Enumerable.Range(0, k).Select(_ => (rng.NextDouble() * 20) - 10).ToArray();
            var v = Enumerable.Range(0, k).Select(_ => 0.01 + (rng.NextDouble() * 3)).ToArray();
            var filter = new HiddenMarkovFilter(new HiddenMarkovModel(pi, a, new GaussianEmission(mu, v)));
            var state = new double[filter.Info.StateLength];
            filter.Initialize(state, 0);
            var est = new Estimate(filter.Info);
            for (var t = 0; t < 200; t++)
            {
                var y = rng.NextDouble() < 0.1 ? double.NaN : (rng.NextDouble() * 400) - 200;
                filter.Step(state, new Observation([y]), est, default);
                Assert.Equal(EstimateFlags.None, est.Flags);
                Assert.InRange(est.StateMean.Sum(), 1 - 1e-12, 1 + 1e-12);
                Assert.InRange(est.PredictedMean.Sum(), 1 - 1e-12, 1 + 1e-12);
                Assert.All(est.StateMean, p => Assert.InRange(p, 0.0, 1.0));
                Assert.True(double.IsNaN(y) ? double.IsNaN(est.LogLikelihood) : double.IsFinite(est.LogLikelihood));
            }
        }
    }

    private static double[] RandomDistribution(Random rng, int k)
    {
        var p = Enumerable.Range(0, k).Select(_ => rng.NextDouble() + 0.01).ToArray();
        var s = p.Sum();
        return p.Select(x => x / s).ToArray();
    }

    internal static void AssertBitIdentical(Estimate a, Estimate b, int t)
    {
        static long[] Bits(IEnumerable<double> v) => v.Select(BitConverter.DoubleToInt64Bits).ToArray();
        Assert.True(Bits(a.PredictedMean).SequenceEqual(Bits(b.PredictedMean)), $"t={t} predicted");
        Assert.True(Bits(a.StateMean).SequenceEqual(Bits(b.StateMean)), $"t={t} state");
        Assert.True(Bits(a.StateCovariance).SequenceEqual(Bits(b.StateCovariance)), $"t={t} state cov");
        Assert.True(Bits(a.ObservationMean).SequenceEqual(Bits(b.ObservationMean)), $"t={t} obs mean");
        Assert.True(Bits(a.ObservationCovariance).SequenceEqual(Bits(b.ObservationCovariance)), $"t={t} obs cov");
        Assert.True(Bits(a.Extras).SequenceEqual(Bits(b.Extras)), $"t={t} extras");
        Assert.Equal(BitConverter.DoubleToInt64Bits(a.LogLikelihood), BitConverter.DoubleToInt64Bits(b.LogLikelihood));
        Assert.Equal(a.HasSmoothed, b.HasSmoothed);
        Assert.True(Bits(a.SmoothedMean).SequenceEqual(Bits(b.SmoothedMean)), $"t={t} smoothed");
    }
}
