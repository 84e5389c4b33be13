using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>The 2-D constant-velocity tracker against filterpy and an augmented-state check (oracles/lgssm).</summary>
public sealed class KalmanFilterConstantVelocityTests
{
    private const double Tol = 1e-9;

    [Fact]
    public void Step_Cv2d_MatchesReferenceFilterEveryRow()
    {
        var csv = OracleCsv.Load("lgssm", "cv2d_filter.csv");
        var kf = new KalmanFilter(Cv2d.Model());
        var data = Cv2d.Data();
        var state = new double[kf.Info.StateLength];
        kf.Initialize(state, 0);
        var est = new Estimate(kf.Info);
        var total = 0.0;
        for (var t = 0; t < data.Length; t++)
        {
            kf.Step(state, data.At(t), est, default);
            var row = $"t={t + 1}";
            Expect.Close(csv.Vector("pred_mean", t, 4), est.PredictedMean, Tol, $"{row} pred_mean");
            Expect.Close(csv.Matrix("pred_cov", t, 4, 4), est.PredictedCovariance, Tol, $"{row} pred_cov");
            Expect.Close(csv.Vector("filt_mean", t, 4), est.StateMean, Tol, $"{row} filt_mean");
            Expect.Close(csv.Matrix("filt_cov", t, 4, 4), est.StateCovariance, Tol, $"{row} filt_cov");
            Expect.Close(csv.Matrix("innov_cov", t, 2, 2), est.ObservationCovariance, Tol, $"{row} innov_cov");
            var y = data.At(t).Values;
            Expect.Close(csv["innov_1"][t], y[0] - est.ObservationMean[0], Tol, $"{row} innov_1");
            Expect.Close(csv["innov_2"][t], y[1] - est.ObservationMean[1], Tol, $"{row} innov_2");
            Expect.Close(csv["loglik_contrib"][t], est.LogLikelihood, Tol, $"{row} loglik");
            total += est.LogLikelihood;
        }

        Expect.Close(-2402.5262907635306, total, 1e-12, "loglik");
    }

    [Fact]
    public void FixedIntervalSmoother_Cv2d_MatchesReferenceRts()
    {
        var csv = OracleCsv.Load("lgssm", "cv2d_rts.csv");
        var (means, covs) = FixedIntervalSmoother.Smooth(new KalmanFilter(Cv2d.Model()), Cv2d.Data());
        Assert.Equal(500, csv.RowCount);
        Assert.Equal(500 * 4, means.Length);
        for (var t = 0; t < csv.RowCount; t++)
        {
            Expect.Close(csv.Vector("smooth_mean", t, 4), means.AsSpan(t * 4, 4), Tol, $"t={t + 1} smooth_mean");
            Expect.Close(csv.Matrix("smooth_cov", t, 4, 4), covs.AsSpan(t * 16, 16), Tol, $"t={t + 1} smooth_cov");
        }
    }

    [Fact]
    public void FixedLagSmoother_Cv2dLag5_MatchesExactFixedLagReference()
    {
        var csv = OracleCsv.Load("lgssm", "cv2d_fixedlag5.csv");
        var smoother = new FixedLagSmoother(new KalmanFilter(Cv2d.Model()), 5);
        var data = Cv2d.Data();
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var est = new Estimate(smoother.Info);
        var emitted = 0;
        for (var t = 0; t < data.Length; t++)
        {
            smoother.Step(state, data.At(t), est, default);
            Assert.Equal(t >= 5, est.HasSmoothed);
            if (!est.HasSmoothed)
            {
                continue;
            }

            var row = t - 5;
            Assert.Equal(row, (int)est.SmoothedTime);
            Assert.Equal(t + 1, (int)csv["last_obs_used"][row]);
            Expect.Close(csv.Vector("fl_mean", row, 4), est.SmoothedMean, Tol, $"t={row + 1} fl_mean");
            Expect.Close(csv.Matrix("fl_cov", row, 4, 4), est.SmoothedCovariance, Tol, $"t={row + 1} fl_cov");
            emitted++;
        }

        Assert.Equal(data.Length - 5, emitted);

        // The steps still in the window at the end are smoothed on all data: they equal the reference's last rows.
        var pending = smoother.SmoothPending(state);
        Assert.Equal(5, pending.Count);
        for (var i = 0; i < pending.Count; i++)
        {
            var row = data.Length - 5 + i;
            Assert.Equal(row, (int)pending[i].Time);
            Expect.Close(csv.Vector("fl_mean", row, 4), pending[i].Mean, Tol, $"t={row + 1} pending mean");
            Expect.Close(csv.Matrix("fl_cov", row, 4, 4), pending[i].Covariance, Tol, $"t={row + 1} pending cov");
        }
    }

    [Fact]
    public void Forecast_Cv2dTenSteps_MatchesReferenceForecast()
    {
        var csv = OracleCsv.Load("lgssm", "cv2d_forecast.csv");
        var kf = new KalmanFilter(Cv2d.Model());
        var data = Cv2d.Data();
        var state = new double[kf.Info.StateLength];
        kf.Initialize(state, 0);
        var est = new Estimate(kf.Info);
        for (var t = 0; t < data.Length; t++)
        {
            kf.Step(state, data.At(t), est, default);
        }

        var fc = new Forecast(kf.Info, 10);
        kf.Forecast(state, 1.0, fc);
        for (var h = 1; h <= 10; h++)
        {
            var row = h - 1;
            Expect.Close(csv.Vector("fc_mean", row, 4), fc.StateMeanAt(h), Tol, $"h={h} fc_mean");
            Expect.Close(csv.Matrix("fc_cov", row, 4, 4), fc.StateCovarianceAt(h), Tol, $"h={h} fc_cov");
            Expect.Close(csv.Vector("fc_obs_mean", row, 2, first: 1), fc.ObservationMeanAt(h), Tol, $"h={h} fc_obs_mean");
            Expect.Close(csv.Matrix("fc_obs_cov", row, 2, 2), fc.ObservationCovarianceAt(h), Tol, $"h={h} fc_obs_cov");
        }
    }

    [Fact]
    public void Step_ConstantVelocityPresetWithUnitGaps_EqualsExplicitMatrices()
    {
        var explicitKf = new KalmanFilter(Cv2d.Model());
        var preset = new KalmanFilter(Cv2d.Model(new ContinuousTimeDynamics([new ConstantVelocity(0.5, 2)])));
        var data = Cv2d.Data();
        var s1 = new double[explicitKf.Info.StateLength];
        var s2 = new double[preset.Info.StateLength];
        explicitKf.Initialize(s1, 0);
        preset.Initialize(s2, 0);
        var e1 = new Estimate(explicitKf.Info);
        var e2 = new Estimate(preset.Info);
        for (var t = 0; t < data.Length; t++)
        {
            explicitKf.Step(s1, data.At(t), e1, default);
            preset.Step(s2, data.At(t), e2, default);
            Expect.Close(e1.StateMean, e2.StateMean, 1e-12, $"t={t + 1} mean");
            Expect.Close(e1.StateCovariance, e2.StateCovariance, 1e-12, $"t={t + 1} cov");
            Expect.Close(e1.LogLikelihood, e2.LogLikelihood, 1e-12, $"t={t + 1} loglik");
        }
    }

    [Fact]
    public void FixedLagSmoother_LagAtLeastSeriesLength_EqualsFixedIntervalSmoother()
    {
        var data = Cv2d.Data();
        const int T = 40;
        var shortSeries = new ObservationSeries(2, data.Values[..(2 * T)]);
        var (means, covs) = FixedIntervalSmoother.Smooth(new KalmanFilter(Cv2d.Model()), shortSeries);
        var smoother = new FixedLagSmoother(new KalmanFilter(Cv2d.Model()), T);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var est = new Estimate(smoother.Info);
        for (var t = 0; t < T; t++)
        {
            smoother.Step(state, shortSeries.At(t), est, default);
            Assert.False(est.HasSmoothed);
        }

        var pending = smoother.SmoothPending(state);
        Assert.Equal(T, pending.Count);
        for (var t = 0; t < T; t++)
        {
            Expect.Close(means.AsSpan(t * 4, 4), pending[t].Mean, 1e-12, $"t={t + 1} mean");
            Expect.Close(covs.AsSpan(t * 16, 16), pending[t].Covariance, 1e-12, $"t={t + 1} cov");
        }
    }
}
