using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Changepoint;

/// <summary>
/// The Weibull hazard and a detector that uses it against references computed outside StreamSeq
/// (<c>Fixtures/bocpd/make_weibull_reference.py</c>: the hazard in 50-digit arithmetic, the run-length recursion
/// written out per segment start).
/// </summary>
public sealed class WeibullHazardTests
{
    [Fact]
    public void Probability_MatchesTheHighPrecisionHazardToRounding()
    {
        var reference = OracleCsv.Load("bocpd", "weibull_hazard_reference.csv");
        for (var i = 0; i < reference.RowCount; i++)
        {
            var hazard = new WeibullHazard(reference["scale"][i], reference["shape"][i]);
            var d = (int)reference["duration"][i];
            var expected = reference["hazard"][i];
            var actual = hazard.Probability(d);

            // The increment (d/λ)^k − ((d−1)/λ)^k loses a few digits to cancellation for long durations; 1e-12 is
            // far above that and far below the up to 2e-7 of the truncated exp(x) − 1 series used before.
            Assert.True(
                Math.Abs(actual - expected) <= 1e-12 * expected,
                $"scale {reference["scale"][i]}, shape {reference["shape"][i]}, d = {d}: expected {expected:R}, got {actual:R} (relative {Math.Abs(actual - expected) / expected:G3})");
        }
    }

    [Fact]
    public void Step_WeibullHazard_MatchesTheDirectRecursion()
    {
        var reference = OracleCsv.Load("bocpd", "weibull_knownvar_cp.csv");
        var detector = new BayesianChangepointDetector(
            new WeibullHazard(20.0, 1.5), new NormalKnownVarianceModel([1.0], [0.0], [9.0]), 400, 0.0, RunLengthRecursion.Changepoint);
        var data = BocpdOracle.Data(reference.RowCount);
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var est = new Estimate(detector.Info);
        var cp = detector.Info.ExtraOffset("changepointProbability");
        var am = detector.Info.ExtraOffset("runLengthZeroProbability");
        var expectedRun = detector.Info.ExtraOffset("expectedRunLength");
        for (var t = 0; t < data.Length; t++)
        {
            detector.Step(state, data.At(t), est, default);
            var row = $"t={t + 1}";
            Expect.Close(reference["log_pred_density"][t], est.LogLikelihood, 1e-11, $"{row} log_pred_density");
            Expect.Close(reference["p_cp_r0"][t], est.Extras[cp], 0, $"{row} P_cp(r=0)", absTol: 1e-12);
            Expect.Close(reference["p_am_r0"][t], est.Extras[am], 0, $"{row} P_am(r=0)", absTol: 1e-12);
            Expect.Close(reference["expected_run_length"][t], est.Extras[expectedRun], 1e-11, $"{row} expected run length");
        }
    }
}
