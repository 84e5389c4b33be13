using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>The pendulum against the 8 runs of a 200,000-particle bootstrap filter (oracles/nonlinear).</summary>
public sealed class ParticleFilterPendulumTests(ITestOutputHelper output)
{
    [Fact]
    public void Step_Pendulum20000Particles_MeansWithinMonteCarloErrorOfReference()
    {
        const int particles = 20_000;
        var data = OracleCsv.Load("nonlinear", "pendulum_data.csv");
        var reference = OracleCsv.Load("nonlinear", "pendulum_pf_reference.csv");
        var pf = new ParticleFilter(new PendulumModel(), new ParticleFilterOptions { ParticleCount = particles, EssThreshold = 1.0 });
        var run = FilterRun.Execute(pf, new ObservationSeries(1, data["y"]), 17);
        var scale = Math.Sqrt(200_000.0 / particles);
        var worst = 0.0;
        var zs = new List<double>();
        Assert.Equal(500, reference.RowCount);
        Assert.Equal(500 * 2, run.Means.Length);
        for (var t = 0; t < reference.RowCount; t++)
        {
            for (var d = 0; d < 2; d++)
            {
                // Difference of our mean and the average of 8 reference runs: its sd is sqrt(sd_N² + sd_200k²/8), with
                // sd_N the reference sd scaled by sqrt(200k/N). An sd from 8 runs alone is uncertain by 27%, and the
                // run-to-run sd changes slowly with t, so the variance is pooled over a ±10-step window; allow 5 sd.
                var sd200 = PooledSd(reference[$"pf_mean_{d}_sd_across_seeds"], t, 10);
                var sd = Math.Sqrt((sd200 * scale * sd200 * scale) + (sd200 * sd200 / 8));
                var z = Math.Abs(run.Means[(2 * t) + d] - reference[$"pf_mean_{d}_avg"][t]) / sd;
                worst = Math.Max(worst, z);
                zs.Add(z);
                Assert.True(z <= 5.0, $"t={t + 1} component {d}: off by {z:F2} sd");
            }

            // Filtered variances agree to 10% (their Monte-Carlo error at 20,000 particles is a few per cent).
            Expect.Close(reference["pf_cov_00_avg"][t], run.Covariances[4 * t], 0.1 * reference["pf_cov_00_avg"][t], $"t={t + 1} cov00", 0.1 * reference["pf_cov_00_avg"][t]);
        }

        zs.Sort();
        output.WriteLine($"z median {zs[zs.Count / 2]:F2} p90 {zs[(int)(zs.Count * 0.9)]:F2} p99 {zs[(int)(zs.Count * 0.99)]:F2}");
        output.WriteLine($"pendulum worst = {worst:F2} sd, loglik {run.TotalLogLikelihood:F4}");

        // Reference log-likelihood 441.2047 with sd 0.030 at 200k particles: 5 sd scaled to N.
        Assert.True(Math.Abs(run.TotalLogLikelihood - 441.20471932956997) <= 5 * 0.02951983215285617 * scale, $"loglik {run.TotalLogLikelihood}");
    }

    private static double PooledSd(double[] sd, int t, int halfWindow)
    {
        var lo = Math.Max(0, t - halfWindow);
        var hi = Math.Min(sd.Length - 1, t + halfWindow);
        var sum = 0.0;
        for (var i = lo; i <= hi; i++)
        {
            sum += sd[i] * sd[i];
        }

        return Math.Sqrt(sum / (hi - lo + 1));
    }
}
