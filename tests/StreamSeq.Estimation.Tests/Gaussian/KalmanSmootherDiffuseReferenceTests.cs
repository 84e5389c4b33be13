using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// Smoothing from an exact diffuse start against statsmodels' exact diffuse smoother (Durbin &amp; Koopman §5.3,
/// Fixtures/diffuse/make_statsmodels_smoother.py): smoothed means and covariances at every step, the diffuse period
/// included, for a local level (with and without its first two readings), a local linear trend, a trend + seasonal of
/// period 4 with missing readings and a 3-state model read through 2 correlated observations; a fixed-lag window; and
/// the infinite variances of directions a series never determines.
/// </summary>
public sealed class KalmanSmootherDiffuseReferenceTests
{
    /// <summary>Differences relative to max(1, |expected|). Measured worst: 2.8e-14 (seasonal4), 6.4e-15 (llt),
    /// 1.7e-15 (bivariate), 5.8e-16 (local level, first two readings missing), 7.4e-16 (local level), 1.6e-14 (lag 3).
    /// The former finite stand-in κ = 1e10 in the records missed inside the diffuse period by 1.3e-5, 1.7e-6, 2.6e-6,
    /// 4.7e-7 and 5.6e-6 (lag 3); a local level whose first reading is observed has a proper filtered state from that
    /// reading on, so its smoothed states were exact already (7.4e-16).</summary>
    private const double Tol = 1e-12;

    private static readonly double[] SeasonalTransition =
    [
        1, 1, 0, 0, 0,
        0, 1, 0, 0, 0,
        0, 0, 6.123233995736766e-17, 1, 0,
        0, 0, -1, 6.123233995736766e-17, 0,
        0, 0, 0, 0, -1,
    ];

    public static TheoryData<string> Cases() => new() { "local_level", "local_level_gap", "llt", "seasonal4", "bivariate" };

    internal static LinearGaussianModel Model(string name) => name switch
    {
        "local_level" or "local_level_gap" => Diffuse(1, [1.0], [1469.1], 1, [1.0], [15099.0]),
        "llt" => Diffuse(2, [1, 1, 0, 1], [0.5, 0, 0, 0.02], 1, [1, 0], [2.0]),
        "seasonal4" => Diffuse(5, SeasonalTransition, Diagonal([0.5, 0.01, 0.05, 0.05, 0.05]), 1, [1, 0, 1, 0, 1], [1.5]),
        "bivariate" => Diffuse(3, [1, 1, 0, 0, 1, 0, 0, 0, 0.9], [0.3, 0.05, 0, 0.05, 0.1, 0, 0, 0, 0.4], 2, [1, 0, 1, 0.5, 1, -1], [1.0, 0.3, 0.3, 0.8]),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    internal static (OracleCsv Oracle, ObservationSeries Series, int Observations) Load(string name)
    {
        var oracle = OracleCsv.Load("diffuse", $"smoother_{name}_statsmodels.csv");
        var m = oracle.Columns.Count(c => c.StartsWith("y_", StringComparison.Ordinal));
        var values = new double[oracle.RowCount * m];
        for (var t = 0; t < oracle.RowCount; t++)
        {
            for (var i = 0; i < m; i++)
            {
                values[(t * m) + i] = oracle[$"y_{i}"][t];
            }
        }

        return (oracle, new ObservationSeries(m, values), m);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Smooth_ExactDiffuseStart_MatchesStatsmodelsAtEveryStep(string name)
    {
        var model = Model(name);
        var n = model.StateDimension;
        var (oracle, series, _) = Load(name);
        var (means, covs) = FixedIntervalSmoother.Smooth(new KalmanFilter(model), series);
        var worst = 0.0;
        var where = 0;
        for (var t = 0; t < oracle.RowCount; t++)
        {
            var e = Math.Max(
                Worst(oracle.Vector("sm_mean", t, n), means.AsSpan(t * n, n)),
                Worst(oracle.Matrix("sm_cov", t, n, n), covs.AsSpan(t * n * n, n * n)));
            if (e > worst)
            {
                worst = e;
                where = t + 1;
            }
        }

        // Inside the diffuse period (the first nobs_diffuse steps) too.
        Assert.True(worst <= Tol, $"{name}: worst smoothed difference {worst:G3} at t={where} (diffuse period {oracle["nobs_diffuse"][0]} steps)");
        for (var t = 0; t < oracle.RowCount; t++)
        {
            Expect.Close(oracle.Vector("sm_mean", t, n), means.AsSpan(t * n, n), Tol, $"{name} t={t + 1} smoothed mean");
            Expect.Close(oracle.Matrix("sm_cov", t, n, n), covs.AsSpan(t * n * n, n * n), Tol, $"{name} t={t + 1} smoothed cov");
        }
    }

    [Fact]
    public void FixedLag_WindowStartingInsideTheDiffusePeriod_MatchesStatsmodelsOnThePrefix()
    {
        const int Lag = 3;
        var model = Model("seasonal4");
        var n = model.StateDimension;
        var (_, series, _) = Load("seasonal4");
        var oracle = OracleCsv.Load("diffuse", $"smoother_seasonal4_lag{Lag}_statsmodels.csv");
        var smoother = new FixedLagSmoother(new KalmanFilter(model), Lag);
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 0);
        var estimate = new Estimate(smoother.Info);
        var row = 0;
        var compared = 0;
        var undetermined = 0;
        var worst = 0.0;
        for (var t = 0; t < series.Length; t++)
        {
            smoother.Step(state, series.At(t), estimate, default);
            if (t < Lag)
            {
                continue;
            }

            Assert.True(estimate.HasSmoothed);
            Assert.Equal(t + 1, (int)oracle["t"][row]);

            // Compared are the windows whose readings determine every direction, which start inside the diffuse
            // period at first; a window that ends inside it (statsmodels' diffuse period is then the whole prefix)
            // reports the directions its readings leave undetermined as infinite variances, as the filtered records do.
            if (estimate.SmoothedCovariance.Any(double.IsInfinity))
            {
                Assert.Equal(t + 1, oracle["nobs_diffuse"][row]);
                undetermined++;
                for (var i = 0; i < n; i++)
                {
                    Assert.NotEqual(double.NegativeInfinity, estimate.SmoothedCovariance[(i * n) + i]);
                }
            }
            else
            {
                worst = Math.Max(worst, Math.Max(
                    Worst(oracle.Vector("sm_mean", row, n), estimate.SmoothedMean),
                    Worst(oracle.Matrix("sm_cov", row, n, n), estimate.SmoothedCovariance)));
                compared++;
            }

            row++;
        }

        Assert.Equal(oracle.RowCount, row);
        Assert.True(compared > 50 && undetermined > 0, $"{compared} windows compared, {undetermined} undetermined");
        Assert.True(worst <= Tol, $"worst lag-{Lag} smoothed difference {worst:G3}");
    }

    [Fact]
    public void Smooth_SeriesEndingInsideTheDiffusePeriod_ReportsUndeterminedDirectionsAsInfinite()
    {
        // A local linear trend read once: the level at the reading is determined (variance R), the slope never is.
        // Two missing readings after it add nothing, so every smoothed step is the filtered first step carried along.
        var model = Model("llt");
        var filter = new KalmanFilter(model);
        var (means, covs) = FixedIntervalSmoother.Smooth(filter, new ObservationSeries(1, [3.0, double.NaN, double.NaN]));
        var state = new double[filter.Info.StateLength];
        var estimate = new Estimate(filter.Info);
        filter.Initialize(state, 0);
        var filtered = new List<double[]>();
        foreach (var y in new[] { 3.0, double.NaN, double.NaN })
        {
            filter.Step(state, new Observation([y]), estimate, default);
            filtered.Add([.. estimate.StateCovariance]);
        }

        // The last step is the filtered one, infinite entries and all; the first has level variance R, the slope ∞.
        Assert.Equal(filtered[2], covs.AsSpan(8, 4).ToArray());
        Assert.Equal(3.0, means[0], 1e-9);
        Expect.Close(2.0, covs[0], 1e-6, "level variance at the reading");
        Assert.Equal(double.PositiveInfinity, covs[3]);
        Assert.Equal(filtered[0].Select(double.IsFinite), covs.AsSpan(0, 4).ToArray().Select(double.IsFinite));
        Assert.Equal(double.PositiveInfinity, covs[4 + 3]);
    }

    private static double Worst(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / Math.Max(1.0, Math.Abs(expected[i])));
        }

        return worst;
    }

    private static double[] Diagonal(double[] d)
    {
        var m = new double[d.Length * d.Length];
        for (var i = 0; i < d.Length; i++)
        {
            m[(i * d.Length) + i] = d[i];
        }

        return m;
    }

    private static LinearGaussianModel Diffuse(int n, double[] f, double[] q, int m, double[] h, double[] r)
    {
        var identity = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            identity[(i * n) + i] = 1.0;
        }

        return new LinearGaussianModel(new MatrixDynamics(n, f, q), m, h, r, new double[n], new double[n * n], identity);
    }
}
