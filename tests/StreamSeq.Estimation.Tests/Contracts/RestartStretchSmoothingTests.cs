using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Contracts;

/// <summary>
/// Fixed-lag smoothing across a re-initialisation that restarts the stream from its prior with the reading assimilated
/// as a first step: every step gets exactly one smoothed estimate; the steps before the restart get what the smoother
/// gives on the readings up to it, and the re-initialised step and the steps after it what the same estimator gives
/// run fresh on the readings from the restart on (a stream whose first reading is the restart's).
/// </summary>
public sealed class RestartStretchSmoothingTests
{
    /// <summary>Two identical local-linear-trend modes with switching: a gap of 1e12 grows a mode's variance beyond
    /// double precision, and the stream starts again from its prior at that reading.</summary>
    private const string Imm = """
        {"name":"i","kind":"imm","modeTransition":[[0.6,0.4],[0.3,0.7]],"modes":[
          {"preset":{"type":"local-linear-trend","levelNoise":0.1,"slopeNoise":0.01},"observationNoise":[[1]],"initialMean":[0,0],"initialCovariance":[[1,0],[0,1]]},
          {"preset":{"type":"local-linear-trend","levelNoise":0.5,"slopeNoise":0.05},"observationNoise":[[2]],"initialMean":[0,0],"initialCovariance":[[4,0],[0,1]]}]}
        """;

    /// <summary>A local level with a control input: a control of 1e308 makes the predicted mean infinite (the variance
    /// stays finite), so the state is not finite after the update; the first step of a stream does not predict, so
    /// the same reading and control assimilate from the prior.</summary>
    private const string KalmanControl = """
        {"name":"k","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[0.5]],"observation":[[1]],"observationNoise":[[2]],
         "control":[[10]],"initialMean":[1],"initialCovariance":[[4]]}
        """;

    /// <summary>A local level whose streams learn their observation noise (the restart keeps what was learned, so a
    /// fresh stream is not the reference: each stretch's own records are); a gap of 2^60 restarts the stream.</summary>
    private const string AdaptiveGap = """
        {"name":"a","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":0.5}],"observationNoise":[[2]],"adapt":["observationNoise"]}
        """;

    /// <summary>As <see cref="KalmanControl"/>, learning the observation noise: a control of 1e308 leaves a non-finite state.</summary>
    private const string AdaptiveControl = """
        {"name":"a","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[0.5]],"observation":[[1]],"observationNoise":[[2]],
         "control":[[10]],"initialMean":[1],"initialCovariance":[[4]],"adapt":["observationNoise"]}
        """;

    /// <summary>Two Gaussian states: no reading makes its probabilities non-finite (every emission gives a finite or
    /// −∞ log-density), so the test damages the stream's state before the restart's reading, as a corrupted buffer would.</summary>
    private const string Hmm = """
        {"name":"h","kind":"hmm","initialProbabilities":[0.6,0.4],"transition":[[0.9,0.1],[0.2,0.8]],
         "emission":{"type":"gaussian","means":[3,5],"variances":[1,2]}}
        """;

    /// <summary>A changepoint detector: as for the HMM, only a damaged state (past its header) makes the evidence
    /// non-finite.</summary>
    private const string Bocpd = """
        {"name":"b","kind":"bocpd","hazard":{"type":"constant","rate":0.05},
         "observation":{"type":"normal-known-variance","variance":1,"priorMean":0,"priorVariance":9},"maxRunLength":50}
        """;

    /// <summary>An extended Kalman filter learning its observation noise, over the linear model of
    /// <see cref="KalmanControl"/>: a control of 1e308 leaves a non-finite state.</summary>
    private const string AdaptiveExtendedControl = """
        {"name":"ae","kind":"extended-kalman","adapt":["model.observationNoise"],"model":{"type":"linear","transition":[[1]],"transitionNoise":[[0.5]],
         "observation":[[1]],"observationNoise":[[2]],"control":[[10]],"initialMean":[1],"initialCovariance":[[4]]}}
        """;

    public static TheoryData<string, int, int, int> Cases() => CasesOf("imm", "kalman-control", "ekf", "ukf", "hmm", "bocpd");

    public static TheoryData<string, int, int, int> EveryCase() => CasesOf("imm", "kalman-control", "ekf", "ukf", "hmm", "bocpd", "adaptive-gap", "adaptive-control", "adaptive-extended-control");

    private static TheoryData<string, int, int, int> CasesOf(params string[] families)
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (var family in families)
        {
            foreach (var (lag, before, after) in new[] { (1, 1, 0), (1, 4, 3), (3, 2, 5), (3, 6, 1), (4, 5, 8) })
            {
                data.Add(family, lag, before, after);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_RestartedWithItsReadingAssimilated_EveryStepSmoothedOnceAsTheStretchesRunApart(string family, int lag, int before, int after)
    {
        var readings = Readings(family, before, after, new Random((lag * 100) + before));
        var whole = FixedLag(family, lag, readings, 0, out var flags);
        Assert.True((flags[before] & EstimateFlags.Reinitialized) != 0, $"step {before} flags {flags[before]}");
        Assert.All(flags.Where((_, t) => t != before), f => Assert.Equal(EstimateFlags.None, f & EstimateFlags.Reinitialized));

        // Exactly one smoothed estimate per step, in time order.
        Assert.Equal([.. Enumerable.Range(0, readings.Length).Select(t => (double)t)], whole.Select(w => w.Time));

        // Before the restart: the smoother on the readings up to it; from the restart on: a fresh stream whose first
        // reading is the restart's.
        var head = FixedLag(family, lag, readings[..before], 0, out _);
        var tail = FixedLag(family, lag, readings[before..], before, out var tailFlags);
        Assert.Equal(EstimateFlags.None, tailFlags[0] & EstimateFlags.Reinitialized);
        var expected = head.Concat(tail).ToList();
        Assert.Equal(expected.Select(e => e.Time), whole.Select(w => w.Time));
        for (var i = 0; i < whole.Count; i++)
        {
            var context = $"{family}, L={lag}, restart at {before}: step {i}";
            Assert.Equal(expected[i].Lag, whole[i].Lag);
            AssertClose(expected[i].Mean, whole[i].Mean, context + " mean");
            AssertClose(expected[i].Covariance, whole[i].Covariance, context + " covariance");
        }
    }

    /// <summary>
    /// Each step's smoothed estimate is the fixed-interval smoother's on its own stretch alone (the steps before the
    /// restart, or the restarted step and those after it), over the readings up to its lag later, from the very records
    /// the estimator wrote: the backward pass never crosses the restart, and the restarted step's record begins its
    /// stretch. Every step exactly once.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryCase))]
    public void Step_RestartedWithItsReadingAssimilated_EveryStepSmoothedOnceOnItsStretchAlone(string family, int lag, int before, int after)
    {
        var readings = Readings(family, before, after, new Random((lag * 100) + before));
        var whole = FixedLag(family, lag, readings, 0, out var flags);
        Assert.True((flags[before] & EstimateFlags.Reinitialized) != 0, $"step {before} flags {flags[before]}");
        Assert.All(flags.Where((_, t) => t != before), f => Assert.Equal(EstimateFlags.None, f & EstimateFlags.Reinitialized));
        Assert.Equal([.. Enumerable.Range(0, readings.Length).Select(t => (double)t)], whole.Select(w => w.Time));

        var estimator = Build(family);
        var n = estimator.Info.StateDimension;
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(estimator.Info);
        var control = new double[estimator.Info.ControlDimension];
        var records = new List<double[]>();
        for (var t = 0; t < readings.Length; t++)
        {
            control.AsSpan().Fill(readings[t].Control);
            Damage(state, estimator, readings[t].Gap, t > 0);
            var record = new double[estimator.Info.BackwardRecordLength];
            estimator.Step(state, new Observation([readings[t].Y], readings[t].Gap, t, control), estimate, record);
            records.Add(record);
        }

        foreach (var (time, smoothedLag, mean, covariance) in whole)
        {
            var step = (int)time;
            var start = step < before ? 0 : before;
            var (means, covs) = FixedIntervalSmoother.Smooth(estimator, records[start..(step + smoothedLag + 1)]);
            var context = $"{family}, L={lag}, restart at {before}: step {step}, lag {smoothedLag}";
            AssertClose(means.AsSpan((step - start) * n, n).ToArray(), mean, context + " mean");
            AssertClose(covs.AsSpan((step - start) * n * n, n * n).ToArray(), covariance, context + " covariance");
        }
    }

    private static IEstimator Build(string family) => family switch
    {
        "adaptive-gap" => ModelCatalog.Build(ModelSpec.Parse(AdaptiveGap)),
        "adaptive-control" => ModelCatalog.Build(ModelSpec.Parse(AdaptiveControl)),
        "adaptive-extended-control" => ModelCatalog.Build(ModelSpec.Parse(AdaptiveExtendedControl)),
        "imm" => ModelCatalog.Build(ModelSpec.Parse(Imm)),
        "hmm" => ModelCatalog.Build(ModelSpec.Parse(Hmm)),
        "bocpd" => ModelCatalog.Build(ModelSpec.Parse(Bocpd)),
        "kalman-control" => ModelCatalog.Build(ModelSpec.Parse(KalmanControl)),
        "ekf" => new ExtendedKalmanFilter(Diverging()),
        "ukf" => new UnscentedKalmanFilter(Diverging()),
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    /// <summary>A damped level, x' = 0.9 x, whose transition multiplies the state by 1e200 over a gap above 10⁶: the
    /// prediction overflows and the state is not finite after the update; a stream's first step does not predict, so
    /// the same reading assimilates from the prior.</summary>
    private static NonlinearGaussianModel Diverging() => new(
        1,
        1,
        (x, context, next) => next[0] = x[0] * Factor(context.TimeGap),
        NonlinearGaussianModel.ConstantTransitionNoise([0.3]),
        (x, y) => y[0] = x[0],
        [1.0],
        [2.0],
        [4.0],
        (_, context, j) => j[0] = Factor(context.TimeGap),
        usesTimeGap: true);

    private static double Factor(double gap) => gap > 1e6 ? 1e200 : 0.9;

    private static (double Y, double Gap, double Control)[] Readings(string family, int before, int after, Random rng)
    {
        var readings = new (double, double, double)[before + 1 + after];
        for (var t = 0; t < readings.Length; t++)
        {
            var y = 3 + (0.2 * t) + rng.NextDouble();
            var restart = t == before;
            readings[t] = family switch
            {
                "imm" or "ekf" or "ukf" => (y, restart ? 1e12 : 1.0, 0.0),
                "hmm" or "bocpd" => (y, restart ? double.NaN : 1.0, 0.0),
                "kalman-control" or "adaptive-control" or "adaptive-extended-control" => (y, 1.0, restart ? 1e308 : 0.1 * rng.NextDouble()),
                "adaptive-gap" => (y, restart ? 1152921504606846976.0 : 1.0, 0.0),
                _ => throw new ArgumentOutOfRangeException(nameof(family)),
            };
        }

        return readings;
    }

    /// <summary>Every smoothed estimate a lag-L smoother gives over <paramref name="readings"/> (times from
    /// <paramref name="offset"/>): at lag L, flushed at a restart, and pending at the end.</summary>
    private static List<(double Time, int Lag, double[] Mean, double[] Covariance)> FixedLag(string family, int lag, (double Y, double Gap, double Control)[] readings, int offset, out List<EstimateFlags> flags)
    {
        var inner = Build(family);
        var smoother = new FixedLagSmoother(inner, lag);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var estimate = new Estimate(smoother.Info);
        var smoothed = new List<(double, int, double[], double[])>();
        flags = [];
        var control = new double[inner.Info.ControlDimension];
        for (var t = 0; t < readings.Length; t++)
        {
            control.AsSpan().Fill(readings[t].Control);
            Damage(state, inner, readings[t].Gap, t > 0);
            smoother.Step(state, new Observation([readings[t].Y], readings[t].Gap, offset + t, control), estimate, default);
            flags.Add(estimate.Flags);
            for (var i = 0; i < estimate.FlushedCount; i++)
            {
                smoothed.Add((estimate.FlushedTime(i), estimate.FlushedLag(i), estimate.FlushedMean(i).ToArray(), estimate.FlushedCovariance(i).ToArray()));
            }

            if (estimate.HasSmoothed)
            {
                smoothed.Add((estimate.SmoothedTime, estimate.SmoothedLag, estimate.SmoothedMean.ToArray(), estimate.SmoothedCovariance.ToArray()));
            }
        }

        var pending = smoother.SmoothPending(state);
        for (var i = 0; i < pending.Count; i++)
        {
            smoothed.Add((pending[i].Time, pending.Count - 1 - i, pending[i].Mean, pending[i].Covariance));
        }

        return smoothed;
    }

    /// <summary>Before a reading marked by a NaN gap, past a stream's first, the estimator's own state past its header
    /// (the HMM's step count; the changepoint detector's step count, run count and head) becomes NaN: its probabilities
    /// are then not finite on the next step.</summary>
    private static void Damage(Span<double> state, IEstimator estimator, double gap, bool started)
    {
        if (double.IsNaN(gap) && started)
        {
            state[(estimator.Info.Family == "hmm" ? 1 : 4)..estimator.Info.StateLength].Fill(double.NaN);
        }
    }

    private static void AssertClose(double[] expected, double[] actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i] == actual[i] || Math.Abs(expected[i] - actual[i]) <= 1e-9 * (1 + Math.Abs(expected[i])), $"{context}[{i}]: {actual[i]:R}, the stretch run alone gives {expected[i]:R}");
        }
    }
}
