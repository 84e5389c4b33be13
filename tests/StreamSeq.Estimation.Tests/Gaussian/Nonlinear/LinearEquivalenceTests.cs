using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian.Nonlinear;

/// <summary>On a linear model the extended and unscented filters are the Kalman filter (oracles/lgssm scenario).</summary>
public sealed class LinearEquivalenceTests
{
    private const double Tol = 1e-10;

    /// <summary>
    /// The tolerance a filter can honour: 1e-10 when it is the Kalman filter up to rounding. Finite differences of a
    /// state whose components differ in scale (positions ~40, velocities ~1) leave ~1e-9 relative error in Jacobian
    /// entries, which the recursion carries to ~1e-8 over 500 steps. α = 1e-3 puts weights of ±10⁵..10⁶ on points
    /// 10⁻³ standard deviations from means of size ~40, costing about 1e-7 relative.
    /// </summary>
    private static double ToleranceOf(string filter) => filter switch
    {
        "ekf-fd" => 1e-7,
        "ukf-merwe-small-alpha" => 1e-6,
        _ => Tol,
    };

    public static TheoryData<string> Filters => ["ekf", "ekf-fd", "ukf-merwe", "ukf-merwe-small-alpha", "ukf-julier", "ukf-cubature", "ukf-filterpy-arithmetic"];

    [Theory]
    [MemberData(nameof(Filters))]
    public void Step_Cv2d_EqualsKalmanFilter(string filter) =>
        AssertSameFilter(Cv2d.Model(), Build(filter, Cv2d.Model()), Cv2d.Data(), ToleranceOf(filter));

    [Theory]
    [MemberData(nameof(Filters))]
    public void Step_Cv2dWithMissingComponents_EqualsKalmanFilter(string filter)
    {
        var data = Cv2d.Data();
        var values = (double[])data.Values.Clone();
        for (var t = 0; t < data.Length; t++)
        {
            if (t % 7 == 3)
            {
                values[2 * t] = double.NaN;
            }

            if (t % 11 == 5)
            {
                values[(2 * t) + 1] = double.NaN;
            }

            if (t % 13 == 0)
            {
                values[2 * t] = double.NaN;
                values[(2 * t) + 1] = double.NaN;
            }
        }

        AssertSameFilter(Cv2d.Model(), Build(filter, Cv2d.Model()), new ObservationSeries(2, values), ToleranceOf(filter));
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void Step_ContinuousTimePresetWithIrregularGaps_EqualsKalmanFilter(string filter)
    {
        var data = Cv2d.Data();
        var gaps = new double[data.Length];
        for (var t = 0; t < gaps.Length; t++)
        {
            gaps[t] = 0.25 + (0.5 * (t % 5));
        }

        var series = new ObservationSeries(2, data.Values, gaps);
        LinearGaussianModel Model() => Cv2d.Model(new ContinuousTimeDynamics([new ConstantVelocity(0.5, 2)]));
        var other = Build(filter, Model());
        Assert.True(other.Info.UsesTimeGap);
        AssertSameFilter(Model(), other, series, ToleranceOf(filter));
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void FixedIntervalSmoother_Cv2d_EqualsKalmanRts(string filter)
    {
        var data = Cv2d.Data();
        var (kfMeans, kfCovs) = FixedIntervalSmoother.Smooth(new KalmanFilter(Cv2d.Model()), data);
        var (means, covs) = FixedIntervalSmoother.Smooth(Build(filter, Cv2d.Model()), data);
        Expect.Close(kfMeans, means, ToleranceOf(filter), "smoothed means");
        Expect.Close(kfCovs, covs, ToleranceOf(filter), "smoothed covariances");
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void FixedLagSmoother_Cv2dLag5_EqualsKalmanAndExactReference(string filter)
    {
        var csv = OracleCsv.Load("lgssm", "cv2d_fixedlag5.csv");
        var data = Cv2d.Data();
        var kf = new FixedLagSmoother(new KalmanFilter(Cv2d.Model()), 5);
        var other = new FixedLagSmoother(Build(filter, Cv2d.Model()), 5);
        var s1 = new double[kf.Info.StateLength];
        var s2 = new double[other.Info.StateLength];
        kf.Initialize(s1, 0);
        other.Initialize(s2, 0);
        var e1 = new Estimate(kf.Info);
        var e2 = new Estimate(other.Info);
        Assert.Equal(500, data.Length);
        Assert.Equal(500, csv.RowCount);
        var compared = 0;
        for (var t = 0; t < data.Length; t++)
        {
            kf.Step(s1, data.At(t), e1, default);
            other.Step(s2, data.At(t), e2, default);
            Assert.Equal(e1.HasSmoothed, e2.HasSmoothed);
            if (!e2.HasSmoothed)
            {
                continue;
            }

            compared++;
            var row = t - 5;
            var tol = ToleranceOf(filter);
            Expect.Close(e1.SmoothedMean, e2.SmoothedMean, tol, $"t={row + 1} lagged mean");
            Expect.Close(e1.SmoothedCovariance, e2.SmoothedCovariance, tol, $"t={row + 1} lagged cov");
            Expect.Close(csv.Vector("fl_mean", row, 4), e2.SmoothedMean, Math.Max(tol, 1e-9), $"t={row + 1} fl_mean");
            Expect.Close(csv.Matrix("fl_cov", row, 4, 4), e2.SmoothedCovariance, Math.Max(tol, 1e-9), $"t={row + 1} fl_cov");
        }

        // Every lagged estimate, x_1..x_495 from t = 6..500, was compared; the last five rows are the RTS rows.
        Assert.Equal(495, compared);
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void Forecast_Cv2d_EqualsKalmanForecast(string filter)
    {
        var data = Cv2d.Data();
        var kf = new KalmanFilter(Cv2d.Model());
        var other = Build(filter, Cv2d.Model());
        var s1 = new double[kf.Info.StateLength];
        var s2 = new double[other.Info.StateLength];
        kf.Initialize(s1, 0);
        other.Initialize(s2, 0);
        var e1 = new Estimate(kf.Info);
        var e2 = new Estimate(other.Info);
        for (var t = 0; t < data.Length; t++)
        {
            kf.Step(s1, data.At(t), e1, default);
            other.Step(s2, data.At(t), e2, default);
        }

        var f1 = new Forecast(kf.Info, 10);
        var f2 = new Forecast(other.Info, 10);
        var before = (double[])s2.Clone();
        kf.Forecast(s1, 1.0, f1);
        other.Forecast(s2, 1.0, f2);
        Assert.Equal(before, s2);
        var tol = ToleranceOf(filter);
        Expect.Close(f1.StateMean, f2.StateMean, tol, "forecast means");
        Expect.Close(f1.StateCovariance, f2.StateCovariance, tol, "forecast covariances");
        Expect.Close(f1.ObservationMean, f2.ObservationMean, tol, "forecast observation means");
        Expect.Close(f1.ObservationCovariance, f2.ObservationCovariance, tol, "forecast observation covariances");

        var csv = OracleCsv.Load("lgssm", "cv2d_forecast.csv");
        for (var h = 1; h <= 10; h++)
        {
            Expect.Close(csv.Vector("fc_mean", h - 1, 4), f2.StateMeanAt(h), Math.Max(tol, 1e-9), $"h={h} fc_mean");
            Expect.Close(csv.Matrix("fc_cov", h - 1, 4, 4), f2.StateCovarianceAt(h), Math.Max(tol, 1e-9), $"h={h} fc_cov");
        }
    }

    [Fact]
    public void Step_JulierKappa_EqualsMerweWithAlphaOneBetaZero()
    {
        var data = NonlinearFixtures.PendulumData();
        var julier = new UnscentedKalmanFilter(NonlinearFixtures.PendulumModel(), SigmaPoints.Julier(1.0));
        var merwe = new UnscentedKalmanFilter(NonlinearFixtures.PendulumModel(), SigmaPoints.Merwe(1.0, 0.0, 1.0));
        Assert.Equal(merwe.MeanWeights.ToArray(), julier.MeanWeights.ToArray());
        Assert.Equal(merwe.CovarianceWeights.ToArray(), julier.CovarianceWeights.ToArray());
        var s1 = new double[julier.Info.StateLength];
        var s2 = new double[merwe.Info.StateLength];
        julier.Initialize(s1, 0);
        merwe.Initialize(s2, 0);
        var e1 = new Estimate(julier.Info);
        var e2 = new Estimate(merwe.Info);
        for (var t = 0; t < data.Length; t++)
        {
            julier.Step(s1, data.At(t), e1, default);
            merwe.Step(s2, data.At(t), e2, default);
            Expect.Close(e2.StateMean, e1.StateMean, 1e-12, $"t={t + 1} mean");
            Expect.Close(e2.StateCovariance, e1.StateCovariance, 1e-12, $"t={t + 1} cov");
            Expect.Close(e2.LogLikelihood, e1.LogLikelihood, 1e-12, $"t={t + 1} loglik");
        }
    }

    internal static IEstimator Build(string filter, LinearGaussianModel linear)
    {
        var model = NonlinearModels.FromLinear(linear);
        return filter switch
        {
            "ekf" => new ExtendedKalmanFilter(model),
            "ekf-fd" => new ExtendedKalmanFilter(model, JacobianSource.FiniteDifferences),
            "ukf-merwe" => new UnscentedKalmanFilter(model, SigmaPoints.Merwe(1.0, 2.0, 0.0)),
            "ukf-merwe-small-alpha" => new UnscentedKalmanFilter(model, SigmaPoints.Merwe(1e-3, 2.0, 0.0)),
            "ukf-julier" => new UnscentedKalmanFilter(model, SigmaPoints.Julier(3.0 - model.StateDimension)),
            "ukf-cubature" => new UnscentedKalmanFilter(model, SigmaPoints.Julier(0.0)),
            "ukf-filterpy-arithmetic" => new UnscentedKalmanFilter(model, SigmaPoints.Merwe(1.0, 2.0, 1.0), robust: false),
            _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "unknown filter"),
        };
    }

    private static void AssertSameFilter(LinearGaussianModel linear, IEstimator other, ObservationSeries data, double tol)
    {
        var kf = new KalmanFilter(linear);
        var s1 = new double[kf.Info.StateLength];
        var s2 = new double[other.Info.StateLength];
        kf.Initialize(s1, 0);
        other.Initialize(s2, 0);
        var e1 = new Estimate(kf.Info);
        var e2 = new Estimate(other.Info);
        double total1 = 0, total2 = 0;
        for (var t = 0; t < data.Length; t++)
        {
            kf.Step(s1, data.At(t), e1, default);
            other.Step(s2, data.At(t), e2, default);
            var row = $"t={t + 1}";
            Assert.Equal(e1.Flags, e2.Flags);
            Assert.Equal(e1.ObservedCount, e2.ObservedCount);
            Expect.Close(e1.PredictedMean, e2.PredictedMean, tol, $"{row} predicted mean");
            Expect.Close(e1.PredictedCovariance, e2.PredictedCovariance, tol, $"{row} predicted cov");
            Expect.Close(e1.ObservationMean, e2.ObservationMean, tol, $"{row} observation mean");
            Expect.Close(e1.ObservationCovariance, e2.ObservationCovariance, tol, $"{row} observation cov");
            Expect.Close(e1.StateMean, e2.StateMean, tol, $"{row} filtered mean");
            Expect.Close(e1.StateCovariance, e2.StateCovariance, tol, $"{row} filtered cov");
            Assert.Equal(double.IsNaN(e1.LogLikelihood), double.IsNaN(e2.LogLikelihood));
            if (!double.IsNaN(e1.LogLikelihood))
            {
                Expect.Close(e1.LogLikelihood, e2.LogLikelihood, tol, $"{row} loglik");
                Expect.Close(e1.NormalizedInnovationSquared, e2.NormalizedInnovationSquared, tol, $"{row} nis");
                total1 += e1.LogLikelihood;
                total2 += e2.LogLikelihood;
            }
        }

        Expect.Close(total1, total2, Math.Max(tol / 100, 1e-12), "total loglik");
    }
}
