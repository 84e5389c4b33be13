using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>The 3-state Gaussian HMM against the reference forward, backward and Viterbi outputs (oracles/hmm).</summary>
public sealed class HiddenMarkovFilterOracleTests
{
    private const double Tol = 1e-9;
    private const int K = 3;

    [Fact]
    public void Step_OracleData_MatchesForwardEveryRow()
    {
        var csv = OracleCsv.Load("hmm", "hmm_forward.csv");
        var filter = new HiddenMarkovFilter(HmmOracle.Model());
        var data = HmmOracle.Data();
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        var total = 0.0;
        var probabilities = filter.Info.ExtraOffset("stateProbabilities");
        var mostLikely = filter.Info.ExtraOffset("mostLikelyState");
        for (var t = 0; t < data.Length; t++)
        {
            filter.Step(state, data.At(t), est, default);
            var row = $"t={t + 1}";
            Expect.Close(Probabilities(csv, "pred_p", t), est.PredictedMean, Tol, $"{row} pred");
            Expect.Close(Probabilities(csv, "filt_p", t), est.StateMean, Tol, $"{row} filt");
            Expect.Close(Probabilities(csv, "filt_p", t), est.Extras.AsSpan(probabilities, K), Tol, $"{row} stateProbabilities");
            Expect.Close(csv["log_pred_density"][t], est.LogLikelihood, Tol, $"{row} log_pred_density");
            total += est.LogLikelihood;
            var logAlpha = csv.Vector("log_alpha", t, K);
            for (var k = 0; k < K; k++)
            {
                Expect.Close(logAlpha[k], Math.Log(est.StateMean[k]) + total, Tol, $"{row} log_alpha_{k}");
            }

            var filt = Probabilities(csv, "filt_p", t);
            Assert.Equal(Array.IndexOf(filt, filt.Max()), (int)est.Extras[mostLikely]);
        }

        Expect.Close(HmmOracle.Expected().GetProperty("loglik").GetDouble(), total, 1e-12, "loglik");
    }

    [Fact]
    public void Step_OracleData_ReportsOneHotMomentsAndMixturePredictive()
    {
        var filter = new HiddenMarkovFilter(HmmOracle.Model());
        var data = HmmOracle.Data(20);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        for (var t = 0; t < data.Length; t++)
        {
            filter.Step(state, data.At(t), est, default);
            var p = est.PredictedMean;
            var mean = 0.0;
            var second = 0.0;
            for (var k = 0; k < K; k++)
            {
                mean += p[k] * HmmOracle.Mu[k];
                second += p[k] * (HmmOracle.Var[k] + (HmmOracle.Mu[k] * HmmOracle.Mu[k]));
            }

            Expect.Close(mean, est.ObservationMean[0], 1e-12, "obs mean");
            Expect.Close(second - (mean * mean), est.ObservationCovariance[0], 1e-12, "obs var");
            var v = data.At(t).Values[0] - mean;
            Expect.Close(v * v / (second - (mean * mean)), est.NormalizedInnovationSquared, 1e-12, "nis");
            for (var i = 0; i < K; i++)
            {
                for (var j = 0; j < K; j++)
                {
                    var f = est.StateMean;
                    Expect.Close((i == j ? f[i] : 0.0) - (f[i] * f[j]), est.StateCovariance[(i * K) + j], 1e-15, "one-hot cov");
                }
            }
        }
    }

    [Fact]
    public void ForwardBackward_OracleData_MatchesSmoothedLogBetaAndTransitionCounts()
    {
        var smoothed = OracleCsv.Load("hmm", "hmm_smoothed.csv");
        var forward = OracleCsv.Load("hmm", "hmm_forward.csv");
        var post = HmmInference.ForwardBackward(HmmOracle.Model(), HmmOracle.Data());
        Assert.Equal(300, post.Length);
        Assert.Equal(300, smoothed.RowCount);
        Assert.Equal(300, forward.RowCount);
        for (var t = 0; t < post.Length; t++)
        {
            var row = $"t={t + 1}";
            Expect.Close(Probabilities(smoothed, "smooth_p", t), post.Smoothed.AsSpan(t * K, K), Tol, $"{row} smooth");
            Expect.Close(smoothed.Vector("log_beta", t, K), post.LogBeta.AsSpan(t * K, K), Tol, $"{row} log_beta");
            Expect.Close(forward.Vector("log_alpha", t, K), post.LogAlpha.AsSpan(t * K, K), Tol, $"{row} log_alpha");
            Expect.Close(Probabilities(forward, "filt_p", t), post.Filtered.AsSpan(t * K, K), Tol, $"{row} filt");
            Expect.Close(forward["log_pred_density"][t], post.LogPredictiveDensity[t], Tol, $"{row} log_pred_density");
        }

        var expected = HmmOracle.Expected();
        Expect.Close(expected.GetProperty("loglik").GetDouble(), post.LogLikelihood, 1e-12, "loglik");
        Expect.Close(HmmOracle.Matrix(expected.GetProperty("expected_transition_counts")), post.ExpectedTransitionCounts, Tol, "expected transition counts");
    }

    [Fact]
    public void FixedIntervalSmoother_OracleData_MatchesSmoothedProbabilities()
    {
        var csv = OracleCsv.Load("hmm", "hmm_smoothed.csv");
        var (means, covs) = FixedIntervalSmoother.Smooth(new HiddenMarkovFilter(HmmOracle.Model()), HmmOracle.Data());
        Assert.Equal(300, csv.RowCount);
        Assert.Equal(300 * K, means.Length);
        for (var t = 0; t < csv.RowCount; t++)
        {
            var p = Probabilities(csv, "smooth_p", t);
            Expect.Close(p, means.AsSpan(t * K, K), Tol, $"t={t + 1} smooth");
            Expect.Close(p[0] * (1 - p[0]), covs[t * K * K], Tol, $"t={t + 1} smooth var 0");
            Expect.Close(-p[0] * p[2], covs[(t * K * K) + 2], Tol, $"t={t + 1} smooth cov 02");
        }
    }

    [Fact]
    public void Viterbi_OracleData_MatchesPathDeltasAndLogJoint()
    {
        var csv = OracleCsv.Load("hmm", "hmm_viterbi.csv");
        var expected = HmmOracle.Expected();
        var result = HmmInference.Viterbi(HmmOracle.Model(), HmmOracle.Data());
        Assert.Equal(300, csv.RowCount);
        Assert.Equal(300, result.Path.Length);
        Assert.Equal(HmmOracle.Path(expected.GetProperty("viterbi_path")), result.Path);
        Assert.Equal(csv["viterbi_state"].Select(v => (int)v).ToArray(), result.Path);
        Expect.Close(expected.GetProperty("viterbi_log_joint").GetDouble(), result.LogJoint, 1e-12, "viterbi_log_joint");
        for (var t = 0; t < csv.RowCount; t++)
        {
            Expect.Close(csv.Vector("log_delta", t, K), result.LogDelta.AsSpan(t * K, K), Tol, $"t={t + 1} log_delta");
        }
    }

    [Fact]
    public void Step_OnlineViterbi_TracksDeltasAndRecoversBatchPath()
    {
        var csv = OracleCsv.Load("hmm", "hmm_viterbi.csv");
        var data = HmmOracle.Data();
        var full = new HiddenMarkovFilter(HmmOracle.Model(), viterbiWindow: 400);
        var windowed = new HiddenMarkovFilter(HmmOracle.Model(), viterbiWindow: 16);
        var state = new double[full.Info.StateLength];
        var small = new double[windowed.Info.StateLength];
        full.Initialize(state, 0);
        windowed.Initialize(small, 0);
        var est = new Estimate(full.Info);
        var est2 = new Estimate(windowed.Info);
        var delta = new double[K];
        var path = new int[400];
        var viterbiOffset = full.Info.ExtraOffset("viterbiHead");
        for (var t = 0; t < data.Length; t++)
        {
            full.Step(state, data.At(t), est, default);
            windowed.Step(small, data.At(t), est2, default);
            full.ReadViterbiScores(state, delta);
            var expectedDelta = csv.Vector("log_delta", t, K);
            Expect.Close(expectedDelta, delta, Tol, $"t={t + 1} online log_delta");
            Assert.Equal(Array.IndexOf(expectedDelta, expectedDelta.Max()), (int)est.Extras[viterbiOffset]);

            if (t % 37 == 5)
            {
                // The windowed traceback is the tail of the batch Viterbi path of the prefix y_{1:t}.
                var prefix = HmmInference.Viterbi(HmmOracle.Model(), HmmOracle.Data(t + 1)).Path;
                var n = windowed.ReadViterbiPath(small, path);
                Assert.Equal(Math.Min(t + 1, 16), n);
                Assert.Equal(prefix[^n..], path[..n]);
            }
        }

        var count = full.ReadViterbiPath(state, path);
        Assert.Equal(300, count);
        Assert.Equal(HmmOracle.Path(HmmOracle.Expected().GetProperty("viterbi_path")), path[..count]);
        Expect.Close(HmmOracle.Expected().GetProperty("viterbi_log_joint").GetDouble(), HiddenMarkovFilter.BestPathLogJoint(state), 1e-12, "online viterbi log joint");
    }

    [Fact]
    public void Iterate_FromTrueParameters_MatchesOneReferenceBaumWelchStep()
    {
        var expected = HmmOracle.Expected().GetProperty("baum_welch_one_step_from_true_params");
        var (next, loglik) = BaumWelch.Iterate(HmmOracle.Model(), [HmmOracle.Data()], ["initialProbabilities", "transition", "emission"]);
        Expect.Close(HmmOracle.Expected().GetProperty("loglik").GetDouble(), loglik, 1e-12, "E-step loglik");
        Expect.Close(HmmOracle.Vector(expected.GetProperty("pi")), next.InitialProbabilities, Tol, "pi");
        Expect.Close(HmmOracle.Matrix(expected.GetProperty("A")), next.Transition, Tol, "A");
        var emission = Assert.IsType<GaussianEmission>(next.Emission);
        Expect.Close(HmmOracle.Vector(expected.GetProperty("mu")), emission.Means, Tol, "mu");
        Expect.Close(HmmOracle.Vector(expected.GetProperty("var")), emission.Variances, Tol, "var");
    }

    [Fact]
    public void Inference_TwelveStepPrefix_MatchesReferencePrefixValues()
    {
        var prefix = HmmOracle.Expected().GetProperty("prefix12");
        var data = HmmOracle.Data(12);
        var post = HmmInference.ForwardBackward(HmmOracle.Model(), data);
        var viterbi = HmmInference.Viterbi(HmmOracle.Model(), data);
        Expect.Close(prefix.GetProperty("loglik").GetDouble(), post.LogLikelihood, 1e-12, "prefix loglik");
        Expect.Close(prefix.GetProperty("viterbi_log_joint").GetDouble(), viterbi.LogJoint, 1e-12, "prefix viterbi joint");
        Assert.Equal(HmmOracle.Path(prefix.GetProperty("viterbi_path")), viterbi.Path);
        Expect.Close(HmmOracle.Matrix(prefix.GetProperty("smoothed")), post.Smoothed, Tol, "prefix smoothed");

        // The same through the online pieces: the filter's likelihood and the fixed-interval smoother.
        var (means, _) = FixedIntervalSmoother.Smooth(new HiddenMarkovFilter(HmmOracle.Model()), data);
        Expect.Close(HmmOracle.Matrix(prefix.GetProperty("smoothed")), means, Tol, "prefix smoothed (backward step)");
    }

    private static double[] Probabilities(OracleCsv csv, string prefix, int row) =>
        [csv[$"{prefix}0"][row], csv[$"{prefix}1"][row], csv[$"{prefix}2"][row]];
}
