using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Discrete;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Changepoint;

/// <summary>Equivalences and properties of the changepoint detector.</summary>
public sealed class BayesianChangepointDetectorTests
{
    private static BayesianChangepointDetector NormalGamma(RunLengthRecursion recursion, int maxRunLength, double pruneBelow) =>
        new(new ConstantHazard(0.01), new NormalGammaModel([0.0], [1.0], [1.0], [1.0]), maxRunLength, pruneBelow, recursion);

    [Theory]
    [InlineData(RunLengthRecursion.Changepoint)]
    [InlineData(RunLengthRecursion.AdamsMacKay)]
    public void Step_TinyPruneThreshold_EqualsUnprunedRun(RunLengthRecursion recursion)
    {
        var data = BocpdOracle.Data();
        var exact = BocpdOracle.KnownVariance(recursion, pruneBelow: 0.0);
        var pruned = BocpdOracle.KnownVariance(recursion, pruneBelow: 1e-14);
        var se = new double[exact.Info.StateLength];
        var sp = new double[pruned.Info.StateLength];
        exact.Initialize(se, 0);
        pruned.Initialize(sp, 0);
        var ee = new Estimate(exact.Info);
        var ep = new Estimate(pruned.Info);
        var runs = new int[1001];
        var probs = new double[1001];
        var maxKept = 0;
        var maxAll = 0;
        for (var t = 0; t < data.Length; t++)
        {
            exact.Step(se, data.At(t), ee, default);
            pruned.Step(sp, data.At(t), ep, default);
            Expect.Close(ee.LogLikelihood, ep.LogLikelihood, 1e-11, $"t={t + 1} loglik");
            Expect.Close(ee.StateMean, ep.StateMean, 1e-11, $"t={t + 1} state mean");
            Expect.Close(ee.StateCovariance, ep.StateCovariance, 1e-11, $"t={t + 1} state var");
            Expect.Close(ee.Extras, ep.Extras, 1e-11, $"t={t + 1} extras");
            maxAll = Math.Max(maxAll, exact.ReadRunLengths(se, runs, probs));
            maxKept = Math.Max(maxKept, pruned.ReadRunLengths(sp, runs, probs));
        }

        Assert.True(maxKept < maxAll / 2, $"pruning should keep far fewer hypotheses ({maxKept} vs {maxAll})");
    }

    [Theory]
    [InlineData(RunLengthRecursion.Changepoint)]
    [InlineData(RunLengthRecursion.AdamsMacKay)]
    public void Step_CopiedState_ContinuesBitIdentically(RunLengthRecursion recursion)
    {
        // A small cap and pruning so the ring buffer wraps and both cap paths run before and after the copy.
        var detector = new FixedLagSmoother(NormalGamma(recursion, maxRunLength: 30, pruneBelow: 1e-6), 4);
        var data = BocpdOracle.Data();
        var original = new double[detector.Info.StateLength];
        detector.Initialize(original, 0);
        var a = new Estimate(detector.Info);
        var b = new Estimate(detector.Info);
        for (var t = 0; t < 237; t++)
        {
            detector.Step(original, data.At(t), a, default);
        }

        var copy = (double[])original.Clone();
        for (var t = 237; t < data.Length; t++)
        {
            detector.Step(original, data.At(t), a, default);
            detector.Step(copy, data.At(t), b, default);
            HiddenMarkovFilterTests.AssertBitIdentical(a, b, t);
        }

        Assert.Equal(original.Select(BitConverter.DoubleToInt64Bits), copy.Select(BitConverter.DoubleToInt64Bits));
    }

    [Theory]
    [InlineData(RunLengthRecursion.Changepoint)]
    [InlineData(RunLengthRecursion.AdamsMacKay)]
    public void FixedLagSmoother_LagAtLeastLength_EqualsFixedInterval(RunLengthRecursion recursion)
    {
        var data = BocpdOracle.Data(60);
        var smoother = new FixedLagSmoother(BocpdOracle.KnownVariance(recursion, maxRunLength: 100, pruneBelow: 1e-12), 64);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var est = new Estimate(smoother.Info);
        for (var t = 0; t < data.Length; t++)
        {
            smoother.Step(state, data.At(t), est, default);
            Assert.False(est.HasSmoothed);
        }

        var pending = smoother.SmoothPending(state);
        var (means, covs) = FixedIntervalSmoother.Smooth(BocpdOracle.KnownVariance(recursion, maxRunLength: 100, pruneBelow: 1e-12), data);
        Assert.Equal(data.Length, pending.Count);
        for (var t = 0; t < data.Length; t++)
        {
            Expect.Close(means[t], pending[t].Mean[0], 1e-12, $"t={t} smoothed mean");
            Expect.Close(covs[t], pending[t].Covariance[0], 1e-12, $"t={t} smoothed variance");
        }
    }

    [Fact]
    public void FixedLagSmoother_LagFive_EqualsFixedIntervalOnEachPrefix()
    {
        const int lag = 5;
        var data = BocpdOracle.Data(130);
        var smoother = new FixedLagSmoother(NormalGamma(RunLengthRecursion.Changepoint, 200, 1e-12), lag);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var est = new Estimate(smoother.Info);
        for (var t = 0; t < data.Length; t++)
        {
            smoother.Step(state, data.At(t), est, default);
            Assert.Equal(t >= lag, est.HasSmoothed);
            if (!est.HasSmoothed || t % 9 != 0)
            {
                continue;
            }

            var (means, covs) = FixedIntervalSmoother.Smooth(NormalGamma(RunLengthRecursion.Changepoint, 200, 1e-12), BocpdOracle.Data(t + 1));
            Expect.Close(means[t - lag], est.SmoothedMean[0], 1e-12, $"t={t} lag-5 mean");
            Expect.Close(covs[t - lag], est.SmoothedCovariance[0], 1e-12, $"t={t} lag-5 variance");
        }
    }

    [Fact]
    public void FixedIntervalSmoother_ShiftedSeries_LocatesSegmentMeans()
    {
        // Smoothing uses the whole segment, so its estimates sit closer to the true means than the filter's.
        var csv = OracleCsv.Load("bocpd", "bocpd_data.csv");
        var truth = csv["true_mean"];
        var detector = BocpdOracle.KnownVariance(RunLengthRecursion.Changepoint, maxRunLength: 500, pruneBelow: 1e-10);
        var data = BocpdOracle.Data();
        var (smoothed, _) = FixedIntervalSmoother.Smooth(detector, data);
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var est = new Estimate(detector.Info);
        double filterError = 0, smoothError = 0;
        for (var t = 0; t < data.Length; t++)
        {
            detector.Step(state, data.At(t), est, default);
            filterError += Math.Pow(est.StateMean[0] - truth[t], 2);
            smoothError += Math.Pow(smoothed[t] - truth[t], 2);
        }

        Assert.True(smoothError < 0.5 * filterError, $"smoothed squared error {smoothError:F2} vs filtered {filterError:F2}");
    }

    [Theory]
    [InlineData(RunLengthRecursion.Changepoint, "known")]
    [InlineData(RunLengthRecursion.AdamsMacKay, "known")]
    [InlineData(RunLengthRecursion.Changepoint, "weibull")]
    [InlineData(RunLengthRecursion.AdamsMacKay, "gamma")]
    public void Forecast_Horizons_EqualStepsWithMissingObservations(RunLengthRecursion recursion, string setup)
    {
        var detector = setup switch
        {
            "known" => BocpdOracle.KnownVariance(recursion, maxRunLength: 400, pruneBelow: 0.0),
            "weibull" => new BayesianChangepointDetector(new WeibullHazard(40, 2.5), new NormalKnownVarianceModel([1.0], [0.0], [9.0]), 400, 0.0, recursion),
            _ => new BayesianChangepointDetector(new LogisticHazard(0.3, 0.2, 30), new NormalGammaModel([0.0], [1.0], [2.0], [1.0]), 400, 0.0, recursion),
        };
        var data = BocpdOracle.Data(190);
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var est = new Estimate(detector.Info);
        for (var t = 0; t < data.Length; t++)
        {
            detector.Step(state, data.At(t), est, default);
        }

        var filtered = est.StateMean[0];
        var forecast = new Forecast(detector.Info, 8);
        detector.Forecast(state, 1.0, forecast);
        var ahead = (double[])state.Clone();
        double[] missing = [double.NaN];
        for (var h = 1; h <= 8; h++)
        {
            detector.Step(ahead, new Observation(missing), est, default);
            Expect.Close(est.PredictedMean, forecast.StateMeanAt(h), 1e-12, $"h={h} state mean");
            Expect.Close(est.PredictedCovariance, forecast.StateCovarianceAt(h), 1e-11, $"h={h} state var");
            Expect.Close(est.ObservationMean, forecast.ObservationMeanAt(h), 1e-12, $"h={h} obs mean");
            Expect.Close(est.ObservationCovariance, forecast.ObservationCovarianceAt(h), 1e-11, $"h={h} obs var");
        }

        // The segment at t = 190 has mean −1 and the prior mean is 0: the chance of a change pulls forecasts
        // monotonically from the filtered segment mean towards the prior.
        Assert.InRange(filtered, -2.0, -0.3);
        for (var h = 1; h <= 8; h++)
        {
            var previous = h == 1 ? filtered : forecast.ObservationMeanAt(h - 1)[0];
            Assert.InRange(forecast.ObservationMeanAt(h)[0], previous, 0.0);
        }
    }

    [Theory]
    [InlineData(RunLengthRecursion.Changepoint)]
    [InlineData(RunLengthRecursion.AdamsMacKay)]
    public void Step_SmallCap_KeepsHypothesesBoundedAndNormalised(RunLengthRecursion recursion)
    {
        const int cap = 25;
        var detector = NormalGamma(recursion, cap, 0.0);
        var data = BocpdOracle.Data();
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var est = new Estimate(detector.Info);
        var runs = new int[cap + 1];
        var probs = new double[cap + 1];
        var atCap = 0;
        for (var t = 0; t < data.Length; t++)
        {
            detector.Step(state, data.At(t), est, default);
            var n = detector.ReadRunLengths(state, runs, probs);
            Assert.InRange(n, 1, cap + 1);
            Assert.Equal(runs[..n].Order(), runs[..n]);
            Assert.All(runs[..n], v => Assert.InRange(v, 0, cap));
            Expect.Close(1.0, probs[..n].Sum(), 1e-12, $"t={t + 1} total");
            Assert.True(double.IsFinite(est.LogLikelihood) && double.IsFinite(est.StateMean[0]) && double.IsFinite(est.StateCovariance[0]));
            atCap += runs[n - 1] == cap && probs[n - 1] > 0.5 ? 1 : 0;
        }

        Assert.True(atCap > 100, "the long stationary stretches should sit at the cap");
    }

    [Theory]
    [InlineData(RunLengthRecursion.Changepoint, 1e-3)]
    [InlineData(RunLengthRecursion.AdamsMacKay, 1e-3)]
    [InlineData(RunLengthRecursion.Changepoint, 0.0)]
    [InlineData(RunLengthRecursion.AdamsMacKay, 0.0)]
    public void Step_CappedRun_UsesExactlyTheLastRPlusOneSteps(RunLengthRecursion recursion, double pruneBelow)
    {
        // With a negligible hazard the run at the cap carries all the mass once t > R: its segment posterior must be
        // the closed-form one from the most recent R + 1 observations. A coarse prune leaves it alone (rebuilt from the
        // ring buffer each step); no pruning keeps the run below it, whose grown statistics it merges with.
        const int cap = 20;
        var detector = new BayesianChangepointDetector(new ConstantHazard(1e-12), new NormalKnownVarianceModel([1.0], [0.0], [9.0]), cap, pruneBelow, recursion);
        // Smooth, outlier-free data so no new-segment hypothesis ever gains weight.
        var data = Enumerable.Range(1, 100).Select(t => (0.5 * Math.Sin(0.7 * t)) + (0.2 * Math.Cos(1.3 * t))).ToArray();
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var est = new Estimate(detector.Info);
        var runs = new int[cap + 1];
        var probs = new double[cap + 1];
        for (var t = 0; t < data.Length; t++)
        {
            detector.Step(state, new Observation(data.AsSpan(t, 1)), est, default);
            var window = data.AsSpan(Math.Max(0, t - cap), Math.Min(t + 1, cap + 1)).ToArray();
            var precision = (1 / 9.0) + window.Length;
            // The new-segment hypothesis still carries ~1e-12 of mass inside the step (it is pruned afterwards).
            Expect.Close(window.Sum() / precision, est.StateMean[0], 1e-11, $"t={t + 1} segment mean");
            Expect.Close(1 / precision, est.StateCovariance[0], 1e-11, $"t={t + 1} segment variance");
            // The run begun at the first observation, after t + 1 steps: r = t (changepoint form) or t + 1 (Adams–MacKay), capped at R.
            var n = detector.ReadRunLengths(state, runs, probs);
            var longest = Math.Min(recursion == RunLengthRecursion.Changepoint ? t : t + 1, cap);
            Assert.Equal(longest, runs[n - 1]);
            Assert.Equal(pruneBelow > 0.0 ? 1 : longest + 1, n);
        }
    }

    [Fact]
    public void Step_CapAtLeastLength_EqualsUncapped()
    {
        var data = BocpdOracle.Data(120);
        var a = NormalGamma(RunLengthRecursion.Changepoint, 120, 0.0);
        var b = NormalGamma(RunLengthRecursion.Changepoint, 5000, 0.0);
        var sa = new double[a.Info.StateLength];
        var sb = new double[b.Info.StateLength];
        a.Initialize(sa, 0);
        b.Initialize(sb, 0);
        var ea = new Estimate(a.Info);
        var eb = new Estimate(b.Info);
        for (var t = 0; t < data.Length; t++)
        {
            a.Step(sa, data.At(t), ea, default);
            b.Step(sb, data.At(t), eb, default);
            Assert.Equal(eb.LogLikelihood, ea.LogLikelihood);
            Assert.Equal(eb.Extras, ea.Extras);
        }
    }

    [Fact]
    public void Step_WhollyMissingObservation_PredictsOnly()
    {
        var detector = BocpdOracle.KnownVariance(RunLengthRecursion.Changepoint);
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var est = new Estimate(detector.Info);
        detector.Step(state, new Observation([1.0]), est, default);
        detector.Step(state, new Observation([double.NaN]), est, default);
        Assert.True(double.IsNaN(est.LogLikelihood));
        Assert.True(double.IsNaN(est.NormalizedInnovationSquared));
        Assert.Equal(0, est.ObservedCount);
        Expect.Close(est.PredictedMean, est.StateMean, 1e-15, "state unchanged by a missing value");
        Expect.Close(BocpdOracle.Hazard, est.Extras[0], 1e-15, "a change at a missing step has the prior probability");
    }

    [Theory]
    [InlineData("\"rate\":0.01", "\"rate\":1.5", "hazard.rate", "strictly between 0 and 1")]
    [InlineData("\"rate\":0.01", "\"rate\":0", "hazard.rate", "strictly between 0 and 1")]
    [InlineData("\"type\":\"constant\"", "\"type\":\"constnt\"", "hazard.type", "unknown hazard type")]
    [InlineData("\"variance\":1", "\"variance\":-1", "observation.variance", "positive")]
    [InlineData("\"variance\":1,\"priorMean\":0,\"priorVariance\":9", "\"variance\":[1,2],\"priorMean\":0,\"priorVariance\":[9,9,9]", "observation.priorVariance", "2 entries")]
    [InlineData("\"type\":\"normal-known-variance\"", "\"type\":\"poisson\"", "observation.type", "unknown observation type")]
    [InlineData("\"maxRunLength\":500", "\"maxRunLength\":0", "maxRunLength", "at least 1")]
    [InlineData("\"pruneBelow\":1e-10", "\"pruneBelow\":1", "pruneBelow", "[0, 1)")]
    [InlineData("\"variant\":\"changepoint\"", "\"variant\":\"am\"", "variant", "adams-mackay")]
    [InlineData("\"variant\":\"changepoint\"", "\"variant\":\"changepoint\",\"hazrd\":1", "hazrd", "not a known field")]
    public void Build_InvalidSpec_FailsNamingTheField(string from, string to, string field, string problem)
    {
        const string spec = """
            {"name":"levels","kind":"bocpd","hazard":{"type":"constant","rate":0.01},
             "observation":{"type":"normal-known-variance","variance":1,"priorMean":0,"priorVariance":9},
             "maxRunLength":500,"pruneBelow":1e-10,"variant":"changepoint"}
            """;
        var json = spec.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(spec, json);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SpecForms_GiveConfiguredDetectors()
    {
        var known = (BayesianChangepointDetector)ModelCatalog.Build(ModelSpec.Parse("""
            {"name":"a","kind":"bocpd","hazard":{"type":"constant","rate":0.01},
             "observation":{"type":"normal-known-variance","variance":1,"priorMean":0,"priorVariance":9}}
            """));
        Assert.Equal(RunLengthRecursion.Changepoint, known.Recursion);
        Assert.Equal(500, known.MaxRunLength);
        Assert.Equal(1e-10, known.PruneBelow);
        Assert.Equal(["changepointProbability", "mapRunLength", "expectedRunLength", "runLengthZeroProbability"], known.Info.Extras.Select(e => e.Name));

        var gamma = (BayesianChangepointDetector)ModelCatalog.Build(ModelSpec.Parse("""
            {"name":"b","kind":"bocpd","hazard":{"type":"weibull","scale":50,"shape":2},
             "observation":{"type":"normal-gamma","priorMean":[0,10],"kappa":1,"alpha":[1,2],"beta":1},
             "maxRunLength":100,"pruneBelow":0,"variant":"adams-mackay"}
            """));
        Assert.Equal(2, gamma.Info.ObservationDimension);
        Assert.Equal(RunLengthRecursion.AdamsMacKay, gamma.Recursion);
        var model = Assert.IsType<NormalGammaModel>(gamma.Observation);
        Assert.Equal([1.0, 2.0], model.Alpha.ToArray());
        Assert.Equal([1.0, 1.0], model.Kappa.ToArray());

        var logistic = ModelCatalog.Build(ModelSpec.Parse("""
            {"name":"c","kind":"bocpd","hazard":{"type":"logistic","rate":0.2,"slope":0.1,"midpoint":40},
             "observation":{"type":"normal-known-variance","dimensions":3,"variance":1,"priorMean":0,"priorVariance":4}}
            """));
        Assert.Equal(3, logistic.Info.StateDimension);
    }
}
