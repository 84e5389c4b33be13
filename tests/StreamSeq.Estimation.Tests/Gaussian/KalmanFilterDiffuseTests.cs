using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// Exact diffuse initialisation is the κ → ∞ limit of the proper prior N(a, κ I): once the diffuse period is over
/// the filtered moments agree with a very vague proper prior, and the diffuse log-likelihood equals the proper one
/// plus (q/2) log κ (q diffuse states), also with correlated observation noise and missing components.
/// </summary>
public sealed class KalmanFilterDiffuseTests
{
    // Large enough that the O(1/κ) gap is small, small enough that rounding in the vague filter stays small too; the
    // two meet around 1e-6 relative for well-conditioned models, hence the 2e-4 tolerance (a real defect, such as
    // decorrelating R with the wrong factor, shows up at 1e-3 to 1e-1).
    private const double Kappa = 1e9;

    [Fact]
    public void Step_DiffusePrior_EqualsTheLimitOfAVagueProperPrior()
    {
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int[0, 1_000_000]).Sample((n, m, seed) =>
        {
            var rng = new Random(seed);
            var f = new double[n * n];
            for (var i = 0; i < n; i++)
            {
                f[(i * n) + i] = 1.0;
                if (i + 1 < n)
                {
                    f[(i * n) + i + 1] = 0.5 + rng.NextDouble();
                }
            }

            // Loadings bounded away from zero, so the data resolve the diffuse states with a well-conditioned system.
            var h = Enumerable.Range(0, m * n).Select(_ => (rng.Next(2) == 0 ? -1 : 1) * (0.5 + (0.5 * rng.NextDouble()))).ToArray();
            var q = Correlated(rng, n, 0.5);
            var r = Correlated(rng, m, 2.0);
            var identity = new double[n * n];
            for (var i = 0; i < n; i++)
            {
                identity[(i * n) + i] = 1.0;
            }

            var dynamics = new MatrixDynamics(n, f, q);
            var diffuse = new KalmanFilter(new LinearGaussianModel(dynamics, m, h, r, new double[n], new double[n * n], initialDiffuse: identity));
            var vague = new KalmanFilter(new LinearGaussianModel(dynamics, m, h, r, new double[n], [.. identity.Select(v => v * Kappa)]));
            var truth = new LinearGaussianModel(dynamics, m, h, r, new double[n], [.. identity.Select(v => v * 4.0)]);
            var data = GaussianSimulation.Simulate(truth, 30, rng, missing: 0.2);

            double[] sd = new double[diffuse.Info.StateLength], sv = new double[vague.Info.StateLength];
            diffuse.Initialize(sd, 0);
            vague.Initialize(sv, 0);
            Estimate ed = new(diffuse.Info), ev = new(vague.Info);
            double lld = 0, llv = 0;
            var resolved = false;
            for (var t = 0; t < data.Length; t++)
            {
                diffuse.Step(sd, data.At(t), ed, default);
                vague.Step(sv, data.At(t), ev, default);
                lld += double.IsNaN(ed.LogLikelihood) ? 0 : ed.LogLikelihood;
                llv += double.IsNaN(ev.LogLikelihood) ? 0 : ev.LogLikelihood;
                if (!resolved && !KalmanFilter.IsStillDiffuse(sd))
                {
                    resolved = true;
                }
                else if (resolved)
                {
                    Expect.Close(ev.StateMean, ed.StateMean, 2e-4, $"seed {seed} t={t} mean", 2e-4);
                    Expect.Close(ev.StateCovariance, ed.StateCovariance, 2e-4, $"seed {seed} t={t} cov", 2e-4);
                }
            }

            if (resolved)
            {
                // The vague filter's rounding is about 1e-6 relative (see above), so the sum of ~30 terms agrees to that.
                Expect.Close(llv + (0.5 * n * Math.Log(Kappa)), lld, 2e-6, $"seed {seed} diffuse loglik", 1e-4);
            }
        }, iter: 200);
    }

    private static double[] Correlated(Random rng, int n, double scale)
    {
        var a = Enumerable.Range(0, n * n).Select(_ => (2 * rng.NextDouble()) - 1).ToArray();
        var p = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var s = i == j ? 0.3 : 0.0;
                for (var k = 0; k < n; k++)
                {
                    s += a[(i * n) + k] * a[(j * n) + k];
                }

                p[(i * n) + j] = scale * s;
            }
        }

        return p;
    }
}
