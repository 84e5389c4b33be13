using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>The local level model on the Nile series against statsmodels' outputs (oracles/nile).</summary>
public sealed class KalmanFilterNileTests
{
    private const double Tol = 1e-9;

    public static TheoryData<string, double, double> Scenarios() => new()
    {
        { "nile_llevel_diffuse_full_dkparams.csv", 15099.0, 1469.1 },
        { "nile_llevel_diffuse_full_mleparams.csv", 15098.517771749346, 1469.176038961787 },
        { "nile_llevel_fixedprior_full_dkparams.csv", 15099.0, 1469.1 },
        { "nile_llevel_fixedprior_full_mleparams.csv", 15099.686351807792, 1468.500125697868 },
    };

    internal static KalmanFilter LocalLevel(double s2Eps, double s2Eta, bool diffuse) =>
        new(new LinearGaussianModel(
            new MatrixDynamics(1, [1.0], [s2Eta]),
            1,
            observation: [1.0],
            observationNoise: [s2Eps],
            initialMean: [0.0],
            initialCovariance: [diffuse ? 0.0 : 1e7],
            initialDiffuse: diffuse ? [1.0] : default));

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Step_NileLocalLevel_MatchesStatsmodelsEveryRow(string file, double s2Eps, double s2Eta)
    {
        var csv = OracleCsv.Load("nile", file);
        var kf = LocalLevel(s2Eps, s2Eta, file.Contains("diffuse", StringComparison.Ordinal));
        var state = new double[kf.Info.StateLength];
        kf.Initialize(state, 0);
        var est = new Estimate(kf.Info);
        var record = new double[kf.Info.BackwardRecordLength];
        var loglik = 0.0;
        for (var t = 0; t < csv.RowCount; t++)
        {
            kf.Step(state, new Observation([csv["y"][t]]), est, record);
            var row = $"t={t + 1}";
            Expect.Close(csv["pred_state_var"][t], est.PredictedCovariance[0], Tol, $"{row} pred_state_var");
            Expect.Close(csv["pred_obs_var"][t], est.ObservationCovariance[0], Tol, $"{row} pred_obs_var");
            if (!double.IsInfinity(csv["pred_state_var"][t]))
            {
                Expect.Close(csv["pred_state_mean"][t], est.PredictedMean[0], Tol, $"{row} pred_state_mean");
                Expect.Close(csv["pred_obs_mean"][t], est.ObservationMean[0], Tol, $"{row} pred_obs_mean");
            }

            Expect.Close(csv["filt_state_mean"][t], est.StateMean[0], Tol, $"{row} filt_state_mean");
            Expect.Close(csv["filt_state_var"][t], est.StateCovariance[0], Tol, $"{row} filt_state_var");
            Expect.Close(csv["loglik_contrib"][t], est.LogLikelihood, Tol, $"{row} loglik_contrib");
            loglik += est.LogLikelihood;
        }

        Expect.Close(csv["loglik_contrib"].Sum(), loglik, 1e-12, "total loglik");
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void FixedIntervalSmoother_NileLocalLevel_MatchesStatsmodelsSmoother(string file, double s2Eps, double s2Eta)
    {
        var csv = OracleCsv.Load("nile", file);
        var kf = LocalLevel(s2Eps, s2Eta, file.Contains("diffuse", StringComparison.Ordinal));
        var series = new ObservationSeries(1, csv["y"]);
        var (means, covs) = FixedIntervalSmoother.Smooth(kf, series);
        Assert.Equal(100, csv.RowCount);
        Assert.Equal(100, means.Length);
        for (var t = 0; t < csv.RowCount; t++)
        {
            Expect.Close(csv["smooth_state_mean"][t], means[t], Tol, $"t={t + 1} smooth_state_mean");
            Expect.Close(csv["smooth_state_var"][t], covs[t], Tol, $"t={t + 1} smooth_state_var");
        }
    }

    [Theory]
    [InlineData(true, -633.4645636488783, 798.3702926083641, 5501.257941808477)]
    [InlineData(false, -641.5855784594153, 798.3702926083641, 5501.257941808477)]
    public void Forecast_AfterNile_MatchesPublishedLoglikAndOneStepPrediction(bool diffuse, double loglik, double mean101, double var101)
    {
        var csv = OracleCsv.Load("nile", "nile_data.csv");
        var kf = LocalLevel(15099.0, 1469.1, diffuse);
        var state = new double[kf.Info.StateLength];
        kf.Initialize(state, 0);
        var est = new Estimate(kf.Info);
        var total = 0.0;
        foreach (var y in csv["volume"])
        {
            kf.Step(state, new Observation([y]), est, default);
            total += est.LogLikelihood;
        }

        Expect.Close(loglik, total, 1e-12, "loglik");
        var fc = new Forecast(kf.Info, 3);
        kf.Forecast(state, 1.0, fc);
        Expect.Close(mean101, fc.StateMeanAt(1)[0], 1e-12, "mu_101 mean");
        Expect.Close(var101, fc.StateCovarianceAt(1)[0], 1e-12, "mu_101 var");
        Expect.Close(var101 + 1469.1, fc.StateCovarianceAt(2)[0], 1e-12, "mu_102 var");
        Expect.Close(var101 + 15099.0, fc.ObservationCovarianceAt(1)[0], 1e-12, "y_101 var");
    }
}
