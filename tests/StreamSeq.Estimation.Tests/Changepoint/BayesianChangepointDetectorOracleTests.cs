using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Changepoint;

/// <summary>The known-variance detector against the reference run-length posteriors (oracles/bocpd).</summary>
public sealed class BayesianChangepointDetectorOracleTests
{
    private const double Tol = 1e-9;

    [Theory]
    [InlineData(RunLengthRecursion.AdamsMacKay, "am", 5)]
    [InlineData(RunLengthRecursion.Changepoint, "cp", 4)]
    public void Step_KnownVariance_MatchesSummariesAndEveryPosteriorEntry(RunLengthRecursion recursion, string variant, int cumulativeUpTo)
    {
        var summary = OracleCsv.Load("bocpd", $"bocpd_knownvar_{variant}_summary.csv");
        var posterior = BocpdOracle.Posterior(variant);
        var detector = BocpdOracle.KnownVariance(recursion);
        var data = BocpdOracle.Data();
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var est = new Estimate(detector.Info);
        var runs = new int[detector.MaxRunLength + 1];
        var probs = new double[detector.MaxRunLength + 1];
        var p0 = detector.Info.ExtraOffset(recursion == RunLengthRecursion.AdamsMacKay ? "runLengthZeroProbability" : "changepointProbability");
        var map = detector.Info.ExtraOffset("mapRunLength");
        var expected = detector.Info.ExtraOffset("expectedRunLength");
        var evidence = 0.0;
        var compared = 0;
        for (var t = 0; t < data.Length; t++)
        {
            detector.Step(state, data.At(t), est, default);
            var row = $"{variant} t={t + 1}";
            Assert.Equal((int)summary["map_run_length"][t], (int)est.Extras[map]);
            Expect.Close(summary["p_r0"][t], est.Extras[p0], Tol, $"{row} p_r0");
            Expect.Close(summary["expected_run_length"][t], est.Extras[expected], Tol, $"{row} expected_run_length");
            Expect.Close(summary["log_pred_density"][t], est.LogLikelihood, Tol, $"{row} log_pred_density");
            evidence += est.LogLikelihood;

            var n = detector.ReadRunLengths(state, runs, probs);
            var reference = posterior[t + 1];
            var cumulative = 0.0;
            var total = 0.0;
            for (var j = 0; j < n; j++)
            {
                total += probs[j];
                if (runs[j] <= cumulativeUpTo)
                {
                    cumulative += probs[j];
                }

                if (reference.TryGetValue(runs[j], out var entry))
                {
                    Expect.Close(entry.Prob, probs[j], 0, $"{row} r={runs[j]} prob", absTol: 1e-13);
                    Expect.Close(entry.LogProb, Math.Log(probs[j]), 0, $"{row} r={runs[j]} log_prob", absTol: 1e-8);
                    compared++;
                }
                else
                {
                    Assert.True(probs[j] < 1.001e-10, $"{row} r={runs[j]}: probability {probs[j]:G3} is missing from the reference (which lists every entry above 1e-10)");
                }
            }

            Assert.Equal(reference.Count, runs[..n].Count(reference.ContainsKey));
            Expect.Close(1.0, total, 1e-12, $"{row} total probability");
            Expect.Close(summary[$"p_r_le_{cumulativeUpTo}"][t], cumulative, Tol, $"{row} p_r_le_{cumulativeUpTo}");
        }

        Assert.Equal(posterior.Values.Sum(r => r.Count), compared);
        Expect.Close(BocpdOracle.LogEvidence, evidence, 1e-12, "log evidence");
    }

    [Fact]
    public void Step_AdamsMacKayAndChangepointForms_SatisfyTheIdentity()
    {
        var am = BocpdOracle.KnownVariance(RunLengthRecursion.AdamsMacKay);
        var cp = BocpdOracle.KnownVariance(RunLengthRecursion.Changepoint);
        var data = BocpdOracle.Data();
        var sa = new double[am.Info.StateLength];
        var sc = new double[cp.Info.StateLength];
        am.Initialize(sa, 0);
        cp.Initialize(sc, 0);
        var ea = new Estimate(am.Info);
        var ec = new Estimate(cp.Info);
        var runsA = new int[1001];
        var probsA = new double[1001];
        var runsC = new int[1001];
        var probsC = new double[1001];
        for (var t = 0; t < data.Length; t++)
        {
            am.Step(sa, data.At(t), ea, default);
            cp.Step(sc, data.At(t), ec, default);
            Expect.Close(ec.LogLikelihood, ea.LogLikelihood, 1e-12, $"t={t + 1} predictive density");
            Expect.Close(ec.StateMean, ea.StateMean, 1e-12, $"t={t + 1} segment mean");
            Expect.Close(ec.StateCovariance, ea.StateCovariance, 1e-12, $"t={t + 1} segment variance");
            Expect.Close(ec.ObservationCovariance, ea.ObservationCovariance, 1e-12, $"t={t + 1} predictive variance");

            // Both variants report both probabilities; the constant hazard makes P_am(r_t = 0) exactly H.
            Expect.Close(ec.Extras[0], ea.Extras[0], 1e-12, $"t={t + 1} changepointProbability");
            Expect.Close(BocpdOracle.Hazard, ea.Extras[3], 1e-14, $"t={t + 1} runLengthZeroProbability (am)");
            Expect.Close(BocpdOracle.Hazard, ec.Extras[3], 1e-14, $"t={t + 1} runLengthZeroProbability (cp)");

            var na = am.ReadRunLengths(sa, runsA, probsA);
            var nc = cp.ReadRunLengths(sc, runsC, probsC);
            var amByRun = Enumerable.Range(0, na).ToDictionary(j => runsA[j], j => probsA[j]);
            for (var j = 0; j < nc; j++)
            {
                // P_am(r_t = k + 1) = (1 − H) P_cp(r_t = k).
                Expect.Close((1 - BocpdOracle.Hazard) * probsC[j], amByRun[runsC[j] + 1], 0, $"t={t + 1} k={runsC[j]}", absTol: 1e-15);
            }
        }
    }

    [Fact]
    public void Step_KnownVariance_MapRunLengthDropsWhereReferenceSays()
    {
        var detector = BocpdOracle.KnownVariance(RunLengthRecursion.Changepoint, maxRunLength: 500, pruneBelow: 1e-10);
        var data = BocpdOracle.Data();
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var est = new Estimate(detector.Info);
        var previous = -1.0;
        var drops = new List<int>();
        var likely = new List<int>();
        for (var t = 0; t < data.Length; t++)
        {
            detector.Step(state, data.At(t), est, default);
            if (est.Extras[1] < previous)
            {
                drops.Add(t + 1);
            }

            if (est.Extras[0] > 0.5)
            {
                likely.Add(t + 1);
            }

            previous = est.Extras[1];
        }

        Assert.Equal([4, 103, 181, 282, 361, 433], drops);
        Assert.Equal([1, 4, 181, 361], likely);
        Assert.Equal(69, (int)est.Extras[1]);
    }
}
