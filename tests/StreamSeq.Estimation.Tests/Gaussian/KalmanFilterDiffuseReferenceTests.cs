using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// The exact diffuse start against independent references: statsmodels' exact diffuse filter on a well-conditioned
/// trend + seasonal (Fixtures/diffuse/make_statsmodels_seasonal.py), and a 120-digit plain Kalman filter with a
/// 1e40 prior on the README's example, whose trend + seasonal of period 1,440 is too ill-conditioned over its first
/// readings for any double-precision exact recursion (Fixtures/diffuse/make_sensors_reference.py).
/// </summary>
public sealed class KalmanFilterDiffuseReferenceTests
{
    private const int N = 6;

    [Fact]
    public void Step_WellConditionedSeasonal_MatchesStatsmodelsExactDiffuse()
    {
        var oracle = OracleCsv.Load("diffuse", "seasonal12_statsmodels.csv");
        var filter = ModelCatalog.Build(ModelSpec.Parse("""
            {"name":"s12","kind":"linear-gaussian","components":[
              {"type":"local-linear-trend","levelNoise":0.5,"slopeNoise":0.01},
              {"type":"trigonometric-seasonal","period":12,"harmonics":2,"seasonalNoise":0.05}],
             "observationNoise":[[2]]}
            """));
        var y = oracle["y"];
        var nobsDiffuse = (int)oracle["nobs_diffuse"][0];
        var state = new double[filter.Info.StateLength];
        var estimate = new Estimate(filter.Info);
        filter.Initialize(state, 0);
        var loglik = 0.0;
        var diffuseSteps = 0;
        for (var t = 0; t < y.Length; t++)
        {
            filter.Step(state, new Observation(y.AsSpan(t, 1), 1.0, t, default), estimate, default);
            diffuseSteps += (estimate.Flags & EstimateFlags.Diffuse) != 0 ? 1 : 0;
            Assert.True((estimate.Flags & ~EstimateFlags.Diffuse) == EstimateFlags.None, $"t={t}: {estimate.Flags}");
            if (!double.IsNaN(estimate.LogLikelihood))
            {
                loglik += estimate.LogLikelihood;
            }

            // The per-step contributions are the D&K diffuse ones in the diffuse period too.
            Expect.Close(double.IsNaN(y[t]) ? 0.0 : oracle["loglik_contrib"][t], double.IsNaN(estimate.LogLikelihood) ? 0.0 : estimate.LogLikelihood, 1e-9, $"t={t} loglik", 1e-9);
            if (t >= nobsDiffuse)
            {
                Expect.Close(oracle.Vector("filt_mean", t, N), estimate.StateMean, 1e-9, $"t={t} mean", 1e-9);
                Expect.Close(oracle.Matrix("filt_cov", t, N, N), estimate.StateCovariance, 1e-9, $"t={t} cov", 1e-9);
            }
        }

        Assert.Equal(nobsDiffuse, diffuseSteps);
        Expect.Close(oracle["llf"][0], loglik, 1e-11, "llf");
    }

    [Fact]
    public void Step_ReadmeExample_LeavesTheDiffusePeriodAndConvergesToTheExactReference()
    {
        var reference = OracleCsv.Load("diffuse", "sensors_exact_reference.csv");
        var spec = ModelSpec.Load(ExampleFiles.PathOf("sensors.json"));
        var filter = ModelCatalog.Build(spec);
        var (values, gaps) = Stream("temperature-0000");
        var state = new double[filter.Info.StateLength];
        var estimate = new Estimate(filter.Info);
        filter.Initialize(state, 0);
        var steps = reference["step"].Select(s => (int)s).ToArray();
        var row = 0;
        var readings = 0;
        for (var t = 0; t < values.Length; t++)
        {
            filter.Step(state, new Observation(values.AsSpan(t, 1), gaps[t], t, default), estimate, default);
            var before = readings;
            readings += double.IsFinite(values[t]) ? 1 : 0;
            var diffuse = (estimate.Flags & EstimateFlags.Diffuse) != 0;

            // Exact diffuse for at most 2n readings; the next step takes the fallback prior and says so; finite afterwards.
            Assert.Equal(readings <= 2 * N, diffuse);
            Assert.Equal(before == 2 * N && readings == before + 1, (estimate.Flags & EstimateFlags.DiffuseFallback) != 0);
            foreach (var (cov, dim, what) in new[] { (estimate.PredictedCovariance, N, "predicted"), (estimate.ObservationCovariance, 1, "observation"), (estimate.StateCovariance, N, "state") })
            {
                var violation = CovarianceProperties.Violation(cov, dim, allowInfinite: diffuse);
                Assert.True(violation is null, $"t={t} {what}: {violation}");
            }

            Assert.True((estimate.Flags & (EstimateFlags.Repaired | EstimateFlags.Reinitialized | EstimateFlags.ObservationSkipped)) == 0, $"t={t}: {estimate.Flags}");
            if (row < steps.Length && steps[row] == t)
            {
                // The exact posterior of the level/seasonal split is astronomically wide for the first ~200 readings
                // (variances 1e17 at reading 18); once the data determine it, predictions and state agree.
                var sd = Math.Sqrt(reference["obs_var"][row]);
                if (t >= 200)
                {
                    Assert.True(Math.Abs(estimate.ObservationMean[0] - reference["obs_mean"][row]) <= 0.02 * sd, $"t={t}: predicted {estimate.ObservationMean[0]:R}, exact {reference["obs_mean"][row]:R}");
                    Expect.Close(reference["obs_var"][row], estimate.ObservationCovariance[0], 2e-3, $"t={t} predictive variance");
                }

                if (t >= 500)
                {
                    var exactCov = reference.Matrix("cov", row, N, N);
                    var exactMean = reference.Vector("mean", row, N);
                    var scale = exactCov.Max(Math.Abs);
                    for (var i = 0; i < N; i++)
                    {
                        var sdi = Math.Sqrt(exactCov[(i * N) + i]);
                        Assert.True(Math.Abs(estimate.StateMean[i] - exactMean[i]) <= 0.05 * sdi, $"t={t} mean[{i}]: {estimate.StateMean[i]:R} vs exact {exactMean[i]:R} (sd {sdi:G3})");
                    }

                    for (var i = 0; i < N * N; i++)
                    {
                        Assert.True(Math.Abs(estimate.StateCovariance[i] - exactCov[i]) <= 5e-3 * scale, $"t={t} cov[{i}]: {estimate.StateCovariance[i]:R} vs exact {exactCov[i]:R}");
                    }
                }

                row++;
            }
        }

        Assert.Equal(steps.Length, row);
    }

    /// <summary>One stream of examples/sensors.csv: values and gaps in minutes (the spec's time unit).</summary>
    private static (double[] Values, double[] Gaps) Stream(string id)
    {
        var rows = File.ReadAllLines(ExampleFiles.PathOf("sensors.csv")).Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f[0] == id)
            .Select(f => (Time: DateTimeOffset.Parse(f[1], CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), Value: f[2].Length == 0 ? double.NaN : double.Parse(f[2], CultureInfo.InvariantCulture)))
            .ToArray();
        var gaps = rows.Select((r, i) => i == 0 ? 0.0 : (r.Time - rows[i - 1].Time) / 60000.0).ToArray();
        return (rows.Select(r => r.Value).ToArray(), gaps);
    }
}
