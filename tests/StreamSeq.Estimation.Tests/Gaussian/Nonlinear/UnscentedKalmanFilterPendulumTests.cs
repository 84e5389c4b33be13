using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Gaussian.Nonlinear;

/// <summary>The unscented filter and smoother on the pendulum against FilterPy 1.4.5 (oracles/nonlinear).</summary>
public sealed class UnscentedKalmanFilterPendulumTests(ITestOutputHelper output)
{
    public static TheoryData<string, double, double, double, bool, double> Settings => new()
    {
        // alpha = 1e-3 gives weights near 1e6: the oracle README allows ~1e-7 there, but the measured worst relative
        // deviation is 4.8e-9 (filter, robust=false; 2.5e-9 robust) and 1.3e-9 (smoother), so 1e-8.
        { "a1e-3_b2_k0", 1e-3, 2.0, 0.0, false, 1e-8 },
        { "a1e-3_b2_k0", 1e-3, 2.0, 0.0, true, 1e-8 },
        { "a1_b2_k1", 1.0, 2.0, 1.0, false, 1e-9 },
        { "a1_b2_k1", 1.0, 2.0, 1.0, true, 1e-9 },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Step_PendulumFilterPySetting_MatchesOracleEveryRow(string setting, double alpha, double beta, double kappa, bool robust, double tol)
    {
        var ukf = new UnscentedKalmanFilter(NonlinearFixtures.PendulumModel(), SigmaPoints.Merwe(alpha, beta, kappa), robust);
        var comparison = new OracleComparison();
        var total = NonlinearFixtures.CompareFilter(ukf, NonlinearFixtures.PendulumData(), OracleCsv.Load("nonlinear", $"pendulum_ukf_{setting}.csv"), comparison);
        var expected = NonlinearFixtures.Number(NonlinearFixtures.Pendulum.GetProperty("ukf").GetProperty(setting).GetProperty("loglik"));
        output.WriteLine(comparison.Report($"pendulum_ukf_{setting}.csv (robust={robust})"));
        output.WriteLine($"total loglik {total:R} vs {expected:R}: relative {Math.Abs(total - expected) / Math.Abs(expected):G3}");
        comparison.AssertWithin(tol, setting);
        Expect.Close(expected, total, tol, "total loglik");
    }

    [Theory]
    [InlineData("a1e-3_b2_k0", 1e-3, 2.0, 0.0)]
    [InlineData("a1_b2_k1", 1.0, 2.0, 1.0)]
    public void Weights_FilterPySetting_EqualOracleWeights(string setting, double alpha, double beta, double kappa)
    {
        var ukf = new UnscentedKalmanFilter(NonlinearFixtures.PendulumModel(), SigmaPoints.Merwe(alpha, beta, kappa));
        var json = NonlinearFixtures.Pendulum.GetProperty("ukf").GetProperty(setting);
        Expect.Close(NonlinearFixtures.Flat(json.GetProperty("Wm")), ukf.MeanWeights, 1e-15, "Wm");
        Expect.Close(NonlinearFixtures.Flat(json.GetProperty("Wc")), ukf.CovarianceWeights, 1e-15, "Wc");
        Expect.Close(NonlinearFixtures.Number(json.GetProperty("lambda")), ukf.SigmaPoints.Spread(2) - 2.0, 1e-15, "lambda");
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void FixedIntervalSmoother_PendulumFilterPySetting_MatchesUnscentedRts(string setting, double alpha, double beta, double kappa, bool robust, double tol)
    {
        var ukf = new UnscentedKalmanFilter(NonlinearFixtures.PendulumModel(), SigmaPoints.Merwe(alpha, beta, kappa), robust);
        var (means, covs) = FixedIntervalSmoother.Smooth(ukf, NonlinearFixtures.PendulumData());
        var csv = OracleCsv.Load("nonlinear", $"pendulum_urts_{setting}.csv");
        var comparison = new OracleComparison();
        for (var t = 0; t < csv.RowCount; t++)
        {
            comparison.Add("smooth_mean", t, csv.Vector("smooth_mean", t, 2), means.AsSpan(t * 2, 2));
            comparison.Add("smooth_cov", t, csv.Matrix("smooth_cov", t, 2, 2), covs.AsSpan(t * 4, 4), matrix: true);
        }

        output.WriteLine(comparison.Report($"pendulum_urts_{setting}.csv (robust={robust})"));
        comparison.AssertWithin(tol, setting);
    }

    [Fact]
    public void FixedLagSmoother_LagAtLeastSeriesLength_EqualsUnscentedRts()
    {
        var data = NonlinearFixtures.PendulumData();
        var ukf = new UnscentedKalmanFilter(NonlinearFixtures.PendulumModel(), SigmaPoints.Merwe(1.0, 2.0, 1.0));
        var (means, covs) = FixedIntervalSmoother.Smooth(ukf, data);
        var smoother = new FixedLagSmoother(ukf, data.Length);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var est = new Estimate(smoother.Info);
        for (var t = 0; t < data.Length; t++)
        {
            smoother.Step(state, data.At(t), est, default);
            Assert.False(est.HasSmoothed);
        }

        var pending = smoother.SmoothPending(state);
        Assert.Equal(data.Length, pending.Count);
        for (var t = 0; t < data.Length; t++)
        {
            Assert.Equal(t, (int)pending[t].Time);
            Expect.Close(means.AsSpan(t * 2, 2), pending[t].Mean, 1e-12, $"t={t + 1} mean");
            Expect.Close(covs.AsSpan(t * 4, 4), pending[t].Covariance, 1e-12, $"t={t + 1} cov");
        }
    }

    [Fact]
    public void FixedLagSmoother_Lag10_EqualsUnscentedRtsOnTruncatedData()
    {
        const int Lag = 10;
        var data = NonlinearFixtures.PendulumData();
        var ukf = new UnscentedKalmanFilter(NonlinearFixtures.PendulumModel(), SigmaPoints.Merwe(1e-3, 2.0, 0.0));
        var smoother = new FixedLagSmoother(ukf, Lag);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var est = new Estimate(smoother.Info);
        int[] checkpoints = [Lag, 57, 250, data.Length - 1];
        for (var t = 0; t < data.Length; t++)
        {
            smoother.Step(state, data.At(t), est, default);
            Assert.Equal(t >= Lag, est.HasSmoothed);
            if (!checkpoints.Contains(t))
            {
                continue;
            }

            // p(x_{t-L} | y_{1:t}) is what the full smoother gives on the data cut after t.
            var prefix = new ObservationSeries(1, data.Values[..(t + 1)]);
            var (means, covs) = FixedIntervalSmoother.Smooth(ukf, prefix);
            var row = t - Lag;
            Assert.Equal(row, (int)est.SmoothedTime);
            Expect.Close(means.AsSpan(row * 2, 2), est.SmoothedMean, 1e-12, $"t={t + 1} lagged mean");
            Expect.Close(covs.AsSpan(row * 4, 4), est.SmoothedCovariance, 1e-12, $"t={t + 1} lagged cov");
        }
    }
}
