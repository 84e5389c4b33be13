using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Smoothing;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// A fixed-lag smoother at a re-initialisation, on the estimator alone: the steps of the stretch the restart ended that
/// had no smoothed estimate yet get one on the restart's step (<see cref="Estimate.FlushedCount"/>), oldest first, equal
/// to the fixed-interval smoother run on that stretch alone, with the lag actually used; the steps after the restart are
/// smoothed as in any stream.
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

        // Every step before the restart once, the restart's step never, the steps after it once they have L later ones.
        double[] expected = [.. Enumerable.Range(0, before).Select(t => (double)t), .. Enumerable.Range(before + 1, Math.Max(0, after - lag)).Select(t => (double)t)];
        Assert.Equal(expected, smoothedAt);
    }

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
