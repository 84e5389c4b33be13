using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>
/// Smoothing around a particle filter's restart: a reading of 1e200 under the constant-velocity model's Gaussian
/// observation noise rules out every particle (and every particle of the fresh prior population too, so it is skipped),
/// the filter redraws its particles from the prior, and every later step descends from them. The restart step starts a
/// lineage as the first step of a stream does, so its smoothed estimate is the one a fresh stream started at that reading
/// gives: the exact Kalman smoother of the readings from there on, the restart's own reading missing.
/// </summary>
public sealed class ParticleRestartSmoothingTests
{
    private const int Lag = 3;
    private const int Restart = 6;
    private const int Length = 14;

    private static ObservationSeries Series()
    {
        var values = ParticleFilterLinearTests.Data(Length).Values.ToArray();
        values[2 * Restart] = 1e200;
        values[(2 * Restart) + 1] = 1e200;
        return new ObservationSeries(2, values);
    }

    /// <summary>The readings from <paramref name="from"/> to <paramref name="to"/> (exclusive) as a series of their own,
    /// the restart's reading missing, as the fresh population that assimilates it cannot use it.</summary>
    private static ObservationSeries Tail(ObservationSeries series, int from, int to)
    {
        var values = series.Values.AsSpan(2 * from, 2 * (to - from)).ToArray();
        values[0] = double.NaN;
        values[1] = double.NaN;
        return new ObservationSeries(2, values);
    }

    private static void AssertNear(ReadOnlySpan<double> expectedMean, ReadOnlySpan<double> expectedCov, ReadOnlySpan<double> mean, ReadOnlySpan<double> cov, double tolerance, string context)
    {
        for (var d = 0; d < 4; d++)
        {
            var sd = Math.Sqrt(expectedCov[(d * 4) + d]);
            Assert.True(Math.Abs(mean[d] - expectedMean[d]) <= tolerance * sd, $"{context}, component {d}: mean {mean[d]:R}, exact {expectedMean[d]:R} (sd {sd:R})");
            var ratio = cov[(d * 4) + d] / expectedCov[(d * 4) + d];
            Assert.True(ratio is > 0.7 and < 1.3, $"{context}, component {d}: variance {cov[(d * 4) + d]:R}, exact {expectedCov[(d * 4) + d]:R}");
        }
    }

    [Fact]
    public void FixedLag_ReadingThatRestartsTheFilter_GetsOneSmoothedEstimateAsAFreshStreamStartedThere()
    {
        var series = Series();
        var pf = new ParticleFilter(new LinearGaussianParticleModel(Cv2d.Model()), new ParticleFilterOptions { ParticleCount = 20_000 });
        var smoother = new FixedLagSmoother(pf, Lag);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 7);
        var estimate = new Estimate(smoother.Info);
        var smoothed = new List<(double Time, int Lag, double[] Mean, double[] Cov)>();
        for (var t = 0; t < series.Length; t++)
        {
            smoother.Step(state, series.At(t), estimate, default);
            Assert.Equal(t == Restart, (estimate.Flags & EstimateFlags.Reinitialized) != 0);
            for (var i = 0; i < estimate.FlushedCount; i++)
            {
                smoothed.Add((estimate.FlushedTime(i), estimate.FlushedLag(i), estimate.FlushedMean(i).ToArray(), estimate.FlushedCovariance(i).ToArray()));
            }

            if (estimate.HasSmoothed)
            {
                smoothed.Add((estimate.SmoothedTime, estimate.SmoothedLag, estimate.SmoothedMean.ToArray(), estimate.SmoothedCovariance.ToArray()));
            }
        }

        // One smoothed estimate for every reading the window has passed, the restart's included, in time order.
        Assert.Equal(Enumerable.Range(0, Length - Lag).Select(t => (double)t), smoothed.Select(s => s.Time));
        Assert.Equal(Lag, smoothed[Restart].Lag);

        // The restart's estimate: the exact smoother of the stream started there, over the L readings after it.
        var (means, covs) = FixedIntervalSmoother.Smooth(new KalmanFilter(Cv2d.Model()), Tail(series, Restart, Restart + Lag + 1));
        AssertNear(means.AsSpan(0, 4), covs.AsSpan(0, 16), smoothed[Restart].Mean, smoothed[Restart].Cov, 0.25, "restart step");
    }

    [Fact]
    public void FixedInterval_MarginalSmoothingAcrossARestart_TheRestartStepIsSmoothedAsTheFirstOfAFreshStream()
    {
        var series = Series();
        var pf = new ParticleFilter(new LinearGaussianParticleModel(Cv2d.Model()), new ParticleFilterOptions { ParticleCount = 2_000, IntervalSmoothing = ParticleSmoothing.Marginal });
        var (pm, pc) = FixedIntervalSmoother.Smooth(pf, series, 7);
        var (km, kc) = FixedIntervalSmoother.Smooth(new KalmanFilter(Cv2d.Model()), Tail(series, Restart, Length));
        for (var t = Restart; t < Length; t++)
        {
            var k = t - Restart;
            AssertNear(km.AsSpan(k * 4, 4), kc.AsSpan(k * 16, 16), pm.AsSpan(t * 4, 4), pc.AsSpan(t * 16, 16), 0.4, $"step {t}");
        }
    }

    [Fact]
    public void FixedInterval_AncestorTracingAcrossARestart_TheStepBeforeItKeepsItsFilteredEstimate()
    {
        // The readings after the restart say nothing about the steps before it (the population was redrawn from the
        // prior), so the pass restarts there: the step just before the restart is smoothed on the readings up to it,
        // which is its filtered estimate, exactly.
        var series = Series();
        var pf = new ParticleFilter(new LinearGaussianParticleModel(Cv2d.Model()), new ParticleFilterOptions { ParticleCount = 500, IntervalSmoothing = ParticleSmoothing.Ancestors });
        var state = new double[pf.Info.StateLength];
        pf.Initialize(state, 7);
        var estimate = new Estimate(pf.Info);
        var records = new List<double[]>();
        double[] filteredMean = [], filteredCov = [];
        for (var t = 0; t < series.Length; t++)
        {
            var record = new double[pf.Info.BackwardRecordLength];
            pf.Step(state, series.At(t), estimate, record);
            records.Add(record);
            if (t == Restart - 1)
            {
                filteredMean = estimate.StateMean.ToArray();
                filteredCov = estimate.StateCovariance.ToArray();
            }
        }

        var (means, covs) = FixedIntervalSmoother.Smooth(pf, records);
        var (headMeans, headCovs) = FixedIntervalSmoother.Smooth(pf, records.Take(Restart).ToList());
        Assert.Equal(filteredMean, means.AsSpan((Restart - 1) * 4, 4).ToArray());
        Assert.Equal(filteredCov, covs.AsSpan((Restart - 1) * 16, 16).ToArray());
        Assert.Equal(headMeans, means.AsSpan(0, Restart * 4).ToArray());
        Assert.Equal(headCovs, covs.AsSpan(0, Restart * 16).ToArray());
    }
}
