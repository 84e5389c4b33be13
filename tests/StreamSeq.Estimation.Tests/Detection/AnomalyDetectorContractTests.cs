using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Detection;
using StreamSeq.Estimation.Smoothing;

namespace StreamSeq.Estimation.Tests.Detection;

/// <summary>The detector on the common step contract: bounds, missing data, state copies, experts, forecasts.</summary>
public sealed class AnomalyDetectorContractTests
{
    [Theory]
    [InlineData(0.0, "empirical", 0)]
    [InlineData(0.01, "empirical", 0)]
    [InlineData(0.0, "exceedance", 5)]
    public void Step_ArbitraryValuesAndGaps_ScoreInUnitIntervalAndOutputsFinite(double changepointHazard, string tailModel, int evidenceWindow)
    {
        var value = Gen.Frequency(
            (6, Gen.Double[-1e3, 1e3]),
            (1, Gen.Const(double.NaN)),
            (1, Gen.OneOfConst(double.PositiveInfinity, double.NegativeInfinity, 1e300, -1e300, 0.0, 5e-324)));
        var gap = Gen.Frequency((6, Gen.Double[0, 1e4]), (1, Gen.OneOfConst(0.0, -5.0, double.NaN, 1e12)));
        var detector = new AnomalyDetector(new AnomalyDetectorOptions { CalibrationWarmup = 10, SeasonalPeriods = [50.0, 400.0], ChangepointHazard = changepointHazard, ChangepointMaxRunLength = 50, TailModel = tailModel, EvidenceWindow = evidenceWindow });
        Gen.Select(value, gap).Array[1, 400].Sample(rows =>
        {
            var state = new double[detector.Info.StateLength];
            detector.Initialize(state, 0);
            var estimate = new Estimate(detector.Info);
            for (var i = 0; i < rows.Length; i++)
            {
                var (y, g) = rows[i];
                detector.Step(state, new Observation([y], g), estimate, default);
                var score = detector.AnomalyScore(estimate);
                Assert.InRange(score, 0.0, 1.0);
                Assert.All(estimate.Extras, e => Assert.True(double.IsFinite(e), $"row {i}: an extra is {e}"));
                Assert.True(double.IsFinite(estimate.StateMean[0]) && double.IsFinite(estimate.ObservationMean[0]), $"row {i}: non-finite mean");
                Assert.True(estimate.StateCovariance[0] >= 0.0 && estimate.ObservationCovariance[0] > 0.0, $"row {i}: bad variance");
                if (!double.IsFinite(y))
                {
                    Assert.Equal(0.0, score);
                    Assert.True(double.IsNaN(estimate.LogLikelihood));
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void Step_MissingValues_ScoreZeroAndDetectionResumes()
    {
        var y = SyntheticSeries.Noise(2000, seed: 21);
        for (var i = 300; i < y.Length; i += 7)
        {
            y[i] = double.NaN;
        }

        y[1501] += 10.0;
        var detector = new AnomalyDetector();
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        var scores = new double[y.Length];
        for (var i = 0; i < y.Length; i++)
        {
            detector.Step(state, new Observation(y.AsSpan(i, 1), i == 0 ? 0 : 60), estimate, default);
            scores[i] = detector.AnomalyScore(estimate);
            if (double.IsNaN(y[i]))
            {
                Assert.Equal(0.0, scores[i]);
                Assert.True(double.IsNaN(estimate.LogLikelihood));
                Assert.Equal(0, estimate.ObservedCount);
            }
            else if (i > 16)
            {
                Assert.True(double.IsFinite(estimate.LogLikelihood));
            }
        }

        Assert.Equal(1501, Array.IndexOf(scores, scores.Max()));
        Assert.True(scores[1501] >= 0.6);
    }

    [Theory]
    [InlineData(0.0, "empirical", 0)]
    [InlineData(0.004, "empirical", 0)]
    [InlineData(0.0, "exceedance", 10)]
    public void Step_CopiedStateMidStream_ContinuesBitIdentically(double changepointHazard, string tailModel, int evidenceWindow)
    {
        var y = SyntheticSeries.Daily(days: 6, seed: 4);
        y[1300] += 20;
        var detector = new AnomalyDetector(new AnomalyDetectorOptions { ChangepointHazard = changepointHazard, TailModel = tailModel, EvidenceWindow = evidenceWindow });
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        for (var i = 0; i < 700; i++)
        {
            detector.Step(state, new Observation(y.AsSpan(i, 1), i == 0 ? 0 : 300), estimate, default);
        }

        var copy = (double[])state.Clone();
        var other = new Estimate(detector.Info);
        for (var i = 700; i < y.Length; i++)
        {
            var gap = i % 97 == 0 ? 900.0 : 300.0;
            detector.Step(state, new Observation(y.AsSpan(i, 1), gap), estimate, default);
            detector.Step(copy, new Observation(y.AsSpan(i, 1), gap), other, default);
            Assert.Equal(estimate.Extras, other.Extras);
            Assert.Equal(estimate.LogLikelihood, other.LogLikelihood);
            Assert.Equal(estimate.ObservationMean[0], other.ObservationMean[0]);
            Assert.Equal(estimate.StateMean[0], other.StateMean[0]);
        }

        Assert.True(state.AsSpan().SequenceEqual(copy));
    }

    [Theory]
    [InlineData(60.0, true, false)]
    [InlineData(300.0, true, true)]
    [InlineData(3600.0, true, true)]
    [InlineData(86_400.0, false, false)]
    public void Step_SamplingInterval_ChoosesTheSeasonalExperts(double gap, bool daily, bool weekly)
    {
        var detector = new AnomalyDetector();
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        var y = SyntheticSeries.Noise(40, seed: 2);
        for (var i = 0; i < y.Length; i++)
        {
            detector.Step(state, new Observation(y.AsSpan(i, 1), i == 0 ? 0 : gap), estimate, default);
        }

        var weights = estimate.Extras.AsSpan(detector.Info.ExtraOffset("expertWeights"), 4);
        Assert.True(weights[0] > 0 && weights[3] > 0);
        Assert.Equal(daily, weights[1] > 0);
        Assert.Equal(weekly, weights[2] > 0);
        Assert.Equal(1.0, weights.ToArray().Sum(), 12);
    }

    [Fact]
    public void Forecast_OneStepAhead_EqualsTheNextStepsPredictiveAndLeavesTheStateAlone()
    {
        var y = SyntheticSeries.Daily(days: 4, seed: 9);
        var detector = new AnomalyDetector();
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        var forecast = new Forecast(detector.Info, 3);
        for (var i = 0; i < y.Length - 1; i++)
        {
            detector.Step(state, new Observation(y.AsSpan(i, 1), i == 0 ? 0 : 300), estimate, default);
        }

        var before = (double[])state.Clone();
        detector.Forecast(state, 300, forecast);
        Assert.True(before.AsSpan().SequenceEqual(state));
        detector.Step(state, new Observation(y.AsSpan(y.Length - 1, 1), 300), estimate, default);
        Assert.Equal(estimate.ObservationMean[0], forecast.ObservationMeanAt(1)[0], 12);
        Assert.Equal(estimate.ObservationCovariance[0], forecast.ObservationCovarianceAt(1)[0], 9);
        Assert.Equal(estimate.PredictedMean[0], forecast.StateMeanAt(1)[0], 12);
        Assert.True(forecast.ObservationCovarianceAt(3)[0] > 0);
    }

    [Fact]
    public void Smooth_FixedLagAsLongAsTheSeries_EqualsFixedInterval()
    {
        var y = SyntheticSeries.Noise(300, seed: 6);
        y[40] = double.NaN;
        y[200] += 12;
        var detector = new AnomalyDetector();
        var series = new ObservationSeries(1, y, [.. Enumerable.Repeat(60.0, y.Length)]);
        var (means, covariances) = FixedIntervalSmoother.Smooth(detector, series);

        var smoother = new FixedLagSmoother(detector, y.Length);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var estimate = new Estimate(smoother.Info);
        for (var t = 0; t < y.Length; t++)
        {
            smoother.Step(state, series.At(t), estimate, default);
        }

        var pending = smoother.SmoothPending(state);
        Assert.Equal(y.Length, pending.Count);
        for (var t = 0; t < y.Length; t++)
        {
            Assert.Equal(means[t], pending[t].Mean[0], 9);
            Assert.Equal(covariances[t], pending[t].Covariance[0], 9);
        }
    }

    [Fact]
    public void Smooth_RandomWalkLevel_TracksTheLevelBetterThanFiltering()
    {
        var rng = new Random(12);
        var n = 2000;
        var level = new double[n];
        var y = new double[n];
        for (var t = 0; t < n; t++)
        {
            level[t] = (t == 0 ? 0.0 : level[t - 1]) + (0.3 * SyntheticSeries.Gaussian(rng));
            y[t] = level[t] + SyntheticSeries.Gaussian(rng);
        }

        var detector = new AnomalyDetector();
        var series = new ObservationSeries(1, y);
        var (smoothed, _) = FixedIntervalSmoother.Smooth(detector, series);
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        double filteredError = 0, smoothedError = 0;
        for (var t = 0; t < n; t++)
        {
            detector.Step(state, series.At(t), estimate, default);
            if (t >= 100)
            {
                filteredError += Math.Pow(estimate.StateMean[0] - level[t], 2);
                smoothedError += Math.Pow(smoothed[t] - level[t], 2);
            }
        }

        Assert.True(smoothedError < 0.8 * filteredError, $"smoothed squared error {smoothedError:F1} vs filtered {filteredError:F1}");
    }

    [Theory]
    [InlineData(0.0, "empirical", 0)]
    [InlineData(0.004, "empirical", 0)]
    [InlineData(0.0, "exceedance", 10)]
    public void Step_SteadyState_AllocatesNothing(double changepointHazard, string tailModel, int evidenceWindow)
    {
        var y = SyntheticSeries.Daily(days: 3, seed: 1);
        var detector = new AnomalyDetector(new AnomalyDetectorOptions { ChangepointHazard = changepointHazard, TailModel = tailModel, EvidenceWindow = evidenceWindow });
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        for (var i = 0; i < 400; i++)
        {
            detector.Step(state, new Observation(y.AsSpan(i, 1), 300), estimate, default);
        }

        // Each window replays the rest of the series from where the detector is: the jump back to step 400's values
        // is one more level shift for it to take without allocating.
        Assert.Equal(0, SteadyStateAllocation.Fewest(() =>
        {
            for (var i = 400; i < y.Length; i++)
            {
                detector.Step(state, new Observation(y.AsSpan(i, 1), 300), estimate, default);
            }
        }));
    }
}
