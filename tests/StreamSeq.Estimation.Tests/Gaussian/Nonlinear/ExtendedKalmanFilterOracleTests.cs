using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Gaussian.Nonlinear;

/// <summary>The extended filter on the pendulum and the growth model against the oracle files (oracles/nonlinear).</summary>
public sealed class ExtendedKalmanFilterOracleTests(ITestOutputHelper output)
{
    [Fact]
    public void Step_PendulumAnalyticJacobians_MatchesOracleEveryRow()
    {
        var ekf = new ExtendedKalmanFilter(NonlinearFixtures.PendulumModel());
        var comparison = new OracleComparison();
        var total = NonlinearFixtures.CompareFilter(ekf, NonlinearFixtures.PendulumData(), OracleCsv.Load("nonlinear", "pendulum_ekf.csv"), comparison);
        var expected = NonlinearFixtures.Number(NonlinearFixtures.Pendulum.GetProperty("ekf").GetProperty("loglik"));
        output.WriteLine(comparison.Report("pendulum_ekf.csv"));
        output.WriteLine($"total loglik {total:R} vs {expected:R}");
        comparison.AssertWithin(1e-9, "pendulum EKF");
        Expect.Close(expected, total, 1e-12, "total loglik");
    }

    [Fact]
    public void Step_PendulumFiniteDifferences_MatchesOracleToDifferencingAccuracy()
    {
        var ekf = new ExtendedKalmanFilter(NonlinearFixtures.PendulumModel(), JacobianSource.FiniteDifferences);
        var comparison = new OracleComparison();
        var total = NonlinearFixtures.CompareFilter(ekf, NonlinearFixtures.PendulumData(), OracleCsv.Load("nonlinear", "pendulum_ekf.csv"), comparison);
        output.WriteLine(comparison.Report("pendulum_ekf.csv, finite differences"));

        // Central differences with h ≈ 6e-6 leave ~1e-10 relative error in each Jacobian entry.
        comparison.AssertWithin(1e-8, "pendulum EKF (finite differences)");
        Expect.Close(NonlinearFixtures.Number(NonlinearFixtures.Pendulum.GetProperty("ekf").GetProperty("loglik")), total, 1e-9, "total loglik");
    }

    [Fact]
    public void Step_GrowthModel_MatchesOracleEveryRow()
    {
        var ekf = new ExtendedKalmanFilter(NonlinearFixtures.GrowthModel());
        var comparison = new OracleComparison();
        var total = NonlinearFixtures.CompareFilter(ekf, NonlinearFixtures.GrowthData(), OracleCsv.Load("nonlinear", "ngm_ekf.csv"), comparison);
        var expected = NonlinearFixtures.Number(NonlinearFixtures.Expected.GetProperty("ngm").GetProperty("ekf").GetProperty("loglik"));
        output.WriteLine(comparison.Report("ngm_ekf.csv"));
        output.WriteLine($"total loglik {total:R} vs {expected:R}");
        comparison.AssertWithin(1e-9, "growth EKF");
        Expect.Close(expected, total, 1e-12, "total loglik");
    }

    [Fact]
    public void Step_GrowthModelFilterPyUkf_MatchesOracleEveryRow()
    {
        var json = NonlinearFixtures.Expected.GetProperty("ngm").GetProperty("ukf_filterpy");
        var points = SigmaPoints.Merwe(
            NonlinearFixtures.Number(json.GetProperty("alpha")),
            NonlinearFixtures.Number(json.GetProperty("beta")),
            NonlinearFixtures.Number(json.GetProperty("kappa")));
        foreach (var robust in new[] { false, true })
        {
            var ukf = new UnscentedKalmanFilter(NonlinearFixtures.GrowthModel(), points, robust);
            var comparison = new OracleComparison();
            var total = NonlinearFixtures.CompareFilter(ukf, NonlinearFixtures.GrowthData(), OracleCsv.Load("nonlinear", "ngm_ukf_filterpy.csv"), comparison);
            var expected = NonlinearFixtures.Number(json.GetProperty("loglik"));
            output.WriteLine(comparison.Report($"ngm_ukf_filterpy.csv (robust={robust})"));
            output.WriteLine($"total loglik {total:R} vs {expected:R}");
            comparison.AssertWithin(1e-9, $"growth UKF robust={robust}");
            Expect.Close(expected, total, 1e-12, "total loglik");
        }
    }

    [Fact]
    public void Step_PriorGivenAtFirstObservation_EqualsPriorAtTimeZero()
    {
        // The oracle convention (prior at t = 0, predict first) and the StreamSeq one (prior at the first
        // observation) agree when the second is given the one-step prediction of the first: for the EKF the
        // linearisation at m0, for the UKF the unscented transform of the prior plus Q.
        var data = NonlinearFixtures.PendulumData();
        IEstimator[] timeZero =
        [
            new ExtendedKalmanFilter(NonlinearFixtures.PendulumModel()),
            new UnscentedKalmanFilter(NonlinearFixtures.PendulumModel(), SigmaPoints.Merwe(1e-3, 2, 0)),
        ];
        foreach (var zero in timeZero)
        {
            var state = new double[zero.Info.StateLength];
            zero.Initialize(state, 0);
            var est = new Estimate(zero.Info);
            zero.Step(state, data.At(0), est, default);
            var model = NonlinearFixtures.PendulumModel().WithPrior(est.PredictedMean, est.PredictedCovariance, priorAtTimeZero: false);
            IEstimator first = zero is UnscentedKalmanFilter u ? new UnscentedKalmanFilter(model, u.SigmaPoints) : new ExtendedKalmanFilter(model);

            zero.Initialize(state, 0);
            var state2 = new double[first.Info.StateLength];
            first.Initialize(state2, 0);
            var est2 = new Estimate(first.Info);
            for (var t = 0; t < data.Length; t++)
            {
                zero.Step(state, data.At(t), est, default);
                first.Step(state2, data.At(t), est2, default);
                Assert.Equal(est.StateMean, est2.StateMean);
                Assert.Equal(est.StateCovariance, est2.StateCovariance);
                Assert.Equal(est.LogLikelihood, est2.LogLikelihood);
            }
        }
    }
}
