using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// A filtered variance far below the transition noise (a very precise sensor, or a learned observation noise driven
/// towards 0 by a stuck sensor) is an ordinary state, not one lost to rounding: the next prediction grows it by the
/// usual Q, and the stream must go on from it. The restart rule for huge gaps (a prediction more than 10¹⁶ times the
/// previous largest variance) used to fire here at every reading.
/// </summary>
public sealed class KalmanFilterPreciseStateTests
{
    /// <summary>Local level, Q = 1, R = 1e-17, proper prior N(0, 1) at the first reading. Expected values from an
    /// independent scalar Kalman filter in numpy (prior at the first reading, predict P + Q, update with
    /// S = P + R, log N(y; a, S)):
    /// <code>
    /// a, P = 0.0, 1.0
    /// for t, y in enumerate(ys):
    ///     if t &gt; 0: P = P + 1.0
    ///     S = P + 1e-17; v = y - a; ll = -0.5 * (np.log(2 * np.pi * S) + v * v / S)
    ///     K = P / S; a = a + K * v; P = (1 - K)**2 * P + K * K * 1e-17
    /// </code>
    /// Before the fix every reading after the first restarted the stream from the prior (flag reinitialized) and was
    /// scored against N(0, 1) instead of N(y_{t-1}, 1): −13.42 instead of −9.32 at the jump to 5.</summary>
    [Fact]
    public void Step_ObservationNoiseFarBelowTheLevelNoise_ContinuesFromTheStateWithoutRestarting()
    {
        const string spec = """{"name":"precise","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1]],"observation":[[1]],"observationNoise":[[1e-17]],"initialMean":[0],"initialCovariance":[[1]]}""";
        double[] ys = [0.3, -0.1, 0.45, 1.2, 0.9, 5.0, 4.5];
        double[] expectedLogLik = [-0.9639385332046727, -0.9989385332046727, -1.0701885332046728, -1.2001885332046727, -0.9639385332046726, -9.323938533204672, -1.0439385332046727];
        var filter = ModelCatalog.Build(ModelSpec.Parse(spec));
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        for (var t = 0; t < ys.Length; t++)
        {
            filter.Step(state, new Observation([ys[t]]), estimate, default);
            Assert.Equal(EstimateFlags.None, estimate.Flags & EstimateFlags.Reinitialized);
            Expect.Close(expectedLogLik[t], estimate.LogLikelihood, 1e-12, $"step {t + 1} logLik");
            Expect.Close(ys[t], estimate.StateMean[0], 1e-12, $"step {t + 1} filtered level");
        }
    }

    /// <summary>A sensor stuck at one value for 14,000 readings drives the variational-Bayes observation noise towards 0
    /// (β shrinks by λ per reading): below 10⁻¹⁷ of the level noise the huge-gap rule restarted the stream at every
    /// reading, which as a diffuse start learns nothing, so it never left that loop: predicted variance ∞ and the
    /// diffuse log-likelihood −½ log 2π forever. The predictive of a repeated reading is N(5, 0.1 + P + r) with P, r
    /// below 10⁻¹⁶, so its log-likelihood is −½ log(2π · 0.1) to rounding.</summary>
    [Fact]
    public void Step_StuckSensorDrivesTheLearnedNoiseTowardsZero_StreamKeepsFilteringWithoutRestarts()
    {
        const string spec = """{"name":"stuck","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":0.1}],"observationNoise":[[1.0]],"adapt":["observationNoise"],"adaptation":{"window":20,"observationNoise":"variational-bayes"}}""";
        var filter = ModelCatalog.Build(ModelSpec.Parse(spec));
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        var restarts = 0;
        for (var t = 0; t < 14_000; t++)
        {
            filter.Step(state, new Observation([5.0]), estimate, default);
            restarts += (estimate.Flags & EstimateFlags.Reinitialized) != 0 ? 1 : 0;
        }

        Assert.Equal(0, restarts);
        Assert.True(estimate.Parameters[0] < 1e-17, $"learned noise {estimate.Parameters[0]}");
        Expect.Close(-0.5 * Math.Log(2.0 * Math.PI * 0.1), estimate.LogLikelihood, 1e-12, "logLik of the last reading");
        Expect.Close(0.1, estimate.ObservationCovariance[0], 1e-12, "predictive variance of the last reading");
    }
}
