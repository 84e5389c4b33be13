using System.Globalization;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian.Nonlinear;

/// <summary>The pendulum and growth-model scenarios of oracles/nonlinear, with the oracle's prior at time zero.</summary>
internal static class NonlinearFixtures
{
    private static readonly Lazy<JsonElement> ExpectedJson = new(() =>
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "nonlinear", "nonlinear_expected.json"));
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    });

    public static JsonElement Expected => ExpectedJson.Value;

    public static JsonElement Pendulum => Expected.GetProperty("pendulum");

    public static double Number(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? double.Parse(e.GetString()!, CultureInfo.InvariantCulture)
        : e.GetDouble();

    public static double[] Flat(JsonElement e) => e.ValueKind == JsonValueKind.Array
        ? [.. e.EnumerateArray().SelectMany(Flat)]
        : [Number(e)];

    /// <summary>The pendulum as the oracle ran it (prior x_0 at time zero, predict then update).</summary>
    public static NonlinearGaussianModel PendulumModel(bool priorAtTimeZero = true)
    {
        var p = Pendulum;
        return NonlinearModels.Pendulum(
            Number(p.GetProperty("dt")),
            Number(p.GetProperty("g")),
            Number(p.GetProperty("qc")),
            Number(p.GetProperty("r2")),
            Flat(p.GetProperty("m0")),
            Flat(p.GetProperty("P0")),
            priorAtTimeZero);
    }

    public static ObservationSeries PendulumData() => Series("pendulum_data.csv");

    /// <summary>The growth model as the oracle ran it: Q = 10, R = 1, x_0 ~ N(0, 5) at time zero.</summary>
    public static NonlinearGaussianModel GrowthModel(bool priorAtTimeZero = true)
    {
        var ekf = Expected.GetProperty("ngm").GetProperty("ekf");
        return NonlinearModels.Growth(10.0, 1.0, [Number(ekf.GetProperty("m0"))], [Number(ekf.GetProperty("P0"))], priorAtTimeZero);
    }

    public static ObservationSeries GrowthData() => Series("ngm_data.csv");

    /// <summary>
    /// Runs an estimator over a series and compares every column of a filter oracle file (predicted, observation and
    /// filtered moments, log-likelihood contributions). Returns the total log-likelihood.
    /// </summary>
    public static double CompareFilter(IEstimator estimator, ObservationSeries data, OracleCsv csv, OracleComparison comparison)
    {
        var n = estimator.Info.StateDimension;
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var est = new Estimate(estimator.Info);
        var total = 0.0;
        Assert.Equal(csv.RowCount, data.Length);
        for (var t = 0; t < data.Length; t++)
        {
            estimator.Step(state, data.At(t), est, default);
            Assert.Equal(EstimateFlags.None, est.Flags);
            Assert.Equal(csv["y"][t], data.At(t).Values[0]);
            if (n == 1)
            {
                comparison.Add("pred_mean", t, csv["pred_mean"][t], est.PredictedMean[0]);
                comparison.Add("pred_var", t, csv["pred_var"][t], est.PredictedCovariance[0]);
                comparison.Add("filt_mean", t, csv["filt_mean"][t], est.StateMean[0]);
                comparison.Add("filt_var", t, csv["filt_var"][t], est.StateCovariance[0]);
            }
            else
            {
                comparison.Add("pred_mean", t, csv.Vector("pred_mean", t, n), est.PredictedMean);
                comparison.Add("pred_cov", t, csv.Matrix("pred_cov", t, n, n), est.PredictedCovariance, matrix: true);
                comparison.Add("filt_mean", t, csv.Vector("filt_mean", t, n), est.StateMean);
                comparison.Add("filt_cov", t, csv.Matrix("filt_cov", t, n, n), est.StateCovariance, matrix: true);
            }

            comparison.Add("pred_obs_mean", t, csv["pred_obs_mean"][t], est.ObservationMean[0]);
            comparison.Add("pred_obs_var", t, csv["pred_obs_var"][t], est.ObservationCovariance[0]);
            comparison.Add("loglik_contrib", t, csv["loglik_contrib"][t], est.LogLikelihood);
            total += est.LogLikelihood;
        }

        return total;
    }

    private static ObservationSeries Series(string file)
    {
        var csv = OracleCsv.Load("nonlinear", file);
        return new ObservationSeries(1, [.. csv["y"]]);
    }
}
