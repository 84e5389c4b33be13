using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Smoothing;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// A fixed-lag smoother at a re-initialisation, on the estimator alone: the steps of the stretch the restart ended that
/// had no smoothed estimate yet get one on the restart's step (<see cref="Estimate.FlushedCount"/>), oldest first, equal
/// to the fixed-interval smoother run on that stretch alone, with the lag actually used; the re-initialised step, which
/// restarts from the prior with its reading assimilated as a first step, begins the next stretch and is smoothed with
/// lag L as a stream's first step is, and so are the steps after it.
/// </summary>
public sealed class FixedLagRestartPropertyTests
{
    [Fact]
    public void Step_ReinitialisedStream_FlushesTheStretchAsTheFixedIntervalSmootherOfTheStretch()
    {
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 15], Gen.Int[0, 10], Gen.Int[0, 1_000_000]).Sample(Check, iter: 200);
    }

    [Fact]
    public void Step_ReinitialisationWithRoomReserved_AllocatesNothing()
    {
        const int Lag = 4;
        var (values, gaps) = Series(12, 3, new Random(1), restartAt: 8);
        var smoother = new FixedLagSmoother(new KalmanFilter(Model()), Lag);
        var state = new double[smoother.Info.StateLength];
        var estimate = new Estimate(smoother.Info);
        estimate.ReserveFlushed(Lag);

        // The window is the whole stretch and its restart, so it can be repeated: a fresh start, eight steps, then the
        // step that re-initialises (its gap of 1e300 leaves a non-finite state) and flushes the stretch.
        var allocated = SteadyStateAllocation.Fewest(() =>
        {
            smoother.Initialize(state, 0);
            for (var t = 0; t <= 8; t++)
            {
                smoother.Step(state, new Observation(values.AsSpan(t, 1), gaps[t], t, default), estimate, default);
            }
        });

        Assert.True((estimate.Flags & EstimateFlags.Reinitialized) != 0);
        Assert.Equal(Lag, estimate.FlushedCount);
        Assert.Equal(0, allocated);
    }

    private static void Check(int lag, int before, int after, int seed)
    {
        var (values, gaps) = Series(before, after, new Random(seed), restartAt: before);
        var model = Model();
        var smoother = new FixedLagSmoother(new KalmanFilter(model), lag);
        var n = smoother.Info.StateDimension;
        var state = new double[smoother.Info.StateLength];
        var estimate = new Estimate(smoother.Info);
        smoother.Initialize(state, 0);
        var smoothedAt = new List<double>();
        for (var t = 0; t < values.Length; t++)
        {
            smoother.Step(state, new Observation(values.AsSpan(t, 1), gaps[t], t, default), estimate, default);
            var restart = (estimate.Flags & EstimateFlags.Reinitialized) != 0;
            Assert.True(restart == (t == before), $"seed {seed}: step {t} flags {estimate.Flags}");
            if (restart)
            {
                Assert.False(estimate.HasSmoothed);
                var flushed = Math.Min(lag, before);
                Assert.Equal(flushed, estimate.FlushedCount);

                // The fixed-interval smoother on the stretch alone.
                var inner = new KalmanFilter(model);
                var (means, covs) = FixedIntervalSmoother.Smooth(inner, new ObservationSeries(1, values[..before], gaps[..before]));
                for (var i = 0; i < flushed; i++)
                {
                    var step = before - flushed + i;
                    Assert.Equal(step, estimate.FlushedTime(i));
                    Assert.Equal(before - 1 - step, estimate.FlushedLag(i));
                    AssertClose(means.AsSpan(step * n, n), estimate.FlushedMean(i), $"seed {seed}, L={lag}: mean of step {step}");
                    AssertClose(covs.AsSpan(step * n * n, n * n), estimate.FlushedCovariance(i), $"seed {seed}, L={lag}: covariance of step {step}");
                    smoothedAt.Add(estimate.FlushedTime(i));
                }
            }
            else
            {
                Assert.Equal(0, estimate.FlushedCount);
            }

            if (estimate.HasSmoothed)
            {
                Assert.Equal(lag, estimate.SmoothedLag);
                smoothedAt.Add(estimate.SmoothedTime);
            }
        }

        // Every step before the restart once; the restart's step and the steps after it once they have L later ones.
        double[] expected = [.. Enumerable.Range(0, before).Select(t => (double)t), .. Enumerable.Range(before, Math.Max(0, after + 1 - lag)).Select(t => (double)t)];
        Assert.Equal(expected, smoothedAt);
    }

    [Fact]
    public void Step_ReinitialisedStream_SmoothsTheRestartAsTheFirstStepOfTheStretchAfterIt()
    {
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 8], Gen.Int[0, 10], Gen.Int[0, 1_000_000]).Sample(CheckAfterRestart, iter: 200);
    }

    [Fact]
    public void Step_ReinitialisedLocalLevel_SmoothsTheStretchAfterTheRestartAsAnIndependentRtsSmoother()
    {
        // A local level (q = 0.5 a unit time, r = 2, prior N(1, 4)): four readings, then 10.2 after a gap of 1e300 that
        // restarts the stream from its prior, then four more. With lag 4 the restart's record comes at the last reading,
        // smoothed on the whole stretch after the restart, and the readings after it from the window at the end. Expected:
        // numpy, a scalar Kalman filter from N(1, 4) over 10.2, 9.7, 11.1, 10.4, 9.9 with gaps 0.5, 1.5, 1, 2 and the
        // Rauch–Tung–Striebel pass.
        double[] means = [8.772336103416436, 9.079649122807016, 9.768956602031393, 9.89573407202216, 9.897156048014773];
        double[] variances = [0.6202523853493381, 0.5777777777777777, 0.5881194213604186, 0.6459833795013851, 0.9537703908895047];
        double[] values = [3.1, 2.4, 4.0, 3.3, 10.2, 9.7, 11.1, 10.4, 9.9];
        double[] gaps = [0, 1, 1, 1, 1e300, 0.5, 1.5, 1, 2];
        var model = new LinearGaussianModel(new ContinuousTimeDynamics([new LocalLevel(0.5)]), 1, [1.0], [2.0], [1.0], [4.0]);
        var smoother = new FixedLagSmoother(new KalmanFilter(model), 4);
        var state = new double[smoother.Info.StateLength];
        var estimate = new Estimate(smoother.Info);
        smoother.Initialize(state, 0);
        var smoothed = new List<(double Time, double Mean, double Variance)>();
        for (var t = 0; t < values.Length; t++)
        {
            smoother.Step(state, new Observation(values.AsSpan(t, 1), gaps[t], t, default), estimate, default);
            Assert.True(((estimate.Flags & EstimateFlags.Reinitialized) != 0) == (t == 4), $"step {t} flags {estimate.Flags}");
            if (estimate.HasSmoothed)
            {
                smoothed.Add((estimate.SmoothedTime, estimate.SmoothedMean[0], estimate.SmoothedCovariance[0]));
            }
        }

        Assert.Equal(4.0, smoothed[^1].Time);
        var pending = smoother.SmoothPending(state);
        var after = smoothed.Skip(smoothed.Count - 1).Concat(pending.Select(p => (p.Time, Mean: p.Mean[0], Variance: p.Covariance[0]))).ToList();
        Assert.Equal([4.0, 5.0, 6.0, 7.0, 8.0], after.Select(a => a.Time));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(means[i], after[i].Mean, 1e-12);
            Assert.Equal(variances[i], after[i].Variance, 1e-12);
        }
    }

    /// <summary>
    /// The steps from the restart on, each smoothed at lag L and at the end of the series (the window's pending steps),
    /// equal the fixed-interval smoother run on the stretch from the restart's reading to the latest reading then, the
    /// restart's reading its first: fixed-lag with L at least the stretch's length is fixed-interval on the stretch.
    /// </summary>
    private static void CheckAfterRestart(int lag, int before, int after, int seed)
    {
        var (values, gaps) = Series(before, after, new Random(seed), restartAt: before);
        var model = Model();
        var smoother = new FixedLagSmoother(new KalmanFilter(model), lag);
        var n = smoother.Info.StateDimension;
        var state = new double[smoother.Info.StateLength];
        var estimate = new Estimate(smoother.Info);
        smoother.Initialize(state, 0);
        var seen = new List<double>();
        for (var t = 0; t < values.Length; t++)
        {
            smoother.Step(state, new Observation(values.AsSpan(t, 1), gaps[t], t, default), estimate, default);
            if (!estimate.HasSmoothed || estimate.SmoothedTime < before)
            {
                continue;
            }

            var step = (int)estimate.SmoothedTime;
            var (means, covs) = StretchSmoother(model, values, gaps, before, t);
            AssertClose(means.AsSpan((step - before) * n, n), estimate.SmoothedMean, $"seed {seed}, L={lag}: mean of step {step} at {t}");
            AssertClose(covs.AsSpan((step - before) * n * n, n * n), estimate.SmoothedCovariance, $"seed {seed}, L={lag}: covariance of step {step} at {t}");
            seen.Add(step);
        }

        var (lastMeans, lastCovs) = StretchSmoother(model, values, gaps, before, values.Length - 1);
        foreach (var (time, mean, covariance) in smoother.SmoothPending(state))
        {
            var step = (int)time;
            AssertClose(lastMeans.AsSpan((step - before) * n, n), mean, $"seed {seed}, L={lag}: pending mean of step {step}");
            AssertClose(lastCovs.AsSpan((step - before) * n * n, n * n), covariance, $"seed {seed}, L={lag}: pending covariance of step {step}");
            seen.Add(step);
        }

        // Each step of the stretch after the restart, the restart's own first, exactly once.
        Assert.Equal([.. Enumerable.Range(before, after + 1).Select(t => (double)t)], seen);
    }

    /// <summary>The fixed-interval smoother on readings <paramref name="first"/> to <paramref name="last"/> alone, from the prior.</summary>
    private static (double[] Means, double[] Covariances) StretchSmoother(LinearGaussianModel model, double[] values, double[] gaps, int first, int last) =>
        FixedIntervalSmoother.Smooth(new KalmanFilter(model), new ObservationSeries(1, values[first..(last + 1)], gaps[first..(last + 1)]));

    /// <summary>A local linear trend: a gap of 1e300 makes its prediction infinite, and the stream restarts there.</summary>
    private static LinearGaussianModel Model()
    {
        var dynamics = new ContinuousTimeDynamics([new LocalLinearTrend(1e-2, 1e-4)]);
        var n = dynamics.StateDimension;
        var h = new double[n];
        dynamics.WriteObservation(h);
        double[] mean = new double[n], cov = new double[n * n], diffuse = new double[n * n];
        dynamics.WriteInitial(mean, cov, diffuse);
        return new LinearGaussianModel(dynamics, 1, h, [0.1], mean, cov, diffuse);
    }

    private static (double[] Values, double[] Gaps) Series(int before, int after, Random rng, int restartAt)
    {
        var length = before + 1 + after;
        var values = new double[length];
        var gaps = new double[length];
        for (var t = 0; t < length; t++)
        {
            values[t] = 20 + (0.1 * t) + rng.NextDouble();
            gaps[t] = t == restartAt ? 1e300 : 0.5 + rng.NextDouble();
        }

        return (values, gaps);
    }

    private static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i] == actual[i] || Math.Abs(expected[i] - actual[i]) <= 1e-9 * (1 + Math.Abs(expected[i])), $"{context}[{i}]: {actual[i]:R}, the stretch's fixed-interval smoother gives {expected[i]:R}");
        }
    }
}
