using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>
/// A random linear Gaussian EM problem: a true model with transition 0.6 I plus entries uniform in ±0.3 (so some
/// are explosive), a loading matrix uniform in ±1, 1–3 sequences of 20–79 steps with a quarter of the components
/// missing, and a start away from the truth (transition 0.5 I, loadings perturbed, dense noise guesses, a vague
/// prior); <see cref="Fields"/> are the parameters named by the bits of the subset.
/// </summary>
internal sealed record RandomEmProblem(ModelSpec Start, IReadOnlyList<ObservationSeries> Data, string[] Fields)
{
    private static readonly string[] AllFields = ["transition", "transitionNoise", "observation", "observationNoise", "initialMean", "initialCovariance"];

    public static RandomEmProblem Create(int n, int m, int subset, int seed)
    {
        var rng = new Random(seed);
        var f = new double[n * n];
        for (var i = 0; i < f.Length; i++)
        {
            f[i] = (0.6 * (rng.NextDouble() - 0.5)) + (i % (n + 1) == 0 ? 0.6 : 0.0);
        }

        var h = new double[m * n];
        for (var i = 0; i < h.Length; i++)
        {
            h[i] = (2 * rng.NextDouble()) - 1;
        }

        var truth = new LinearGaussianModel(new MatrixDynamics(n, f, RandomPositiveDefinite(rng, n, 1.0)), m, h, RandomPositiveDefinite(rng, m, 0.5), new double[n], RandomPositiveDefinite(rng, n, 2.0));
        var data = Enumerable.Range(0, 1 + rng.Next(3)).Select(_ => GaussianSimulation.Simulate(truth, 20 + rng.Next(60), rng, missing: 0.25)).ToList();

        var f0 = new double[n * n];
        var q0 = RandomPositiveDefinite(rng, n, 3.0);
        var r0 = RandomPositiveDefinite(rng, m, 3.0);
        var h0 = h.Select(v => v + (0.3 * GaussianSimulation.Normal(rng))).ToArray();
        var p0 = RandomPositiveDefinite(rng, n, 5.0);
        for (var i = 0; i < n; i++)
        {
            f0[(i * n) + i] = 0.5;
        }

        var spec = LinearGaussianSpecJson.Spec(n, m, f0, q0, h0, r0, new double[n], p0);
        return new RandomEmProblem(spec, data, [.. AllFields.Where((_, i) => (subset & (1 << i)) != 0)]);
    }

    private static double[] RandomPositiveDefinite(Random rng, int n, double scale)
    {
        var a = new double[n * n];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = GaussianSimulation.Normal(rng);
        }

        var p = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var s = i == j ? 0.2 : 0.0;
                for (var k = 0; k < n; k++)
                {
                    s += a[(i * n) + k] * a[(j * n) + k] / n;
                }

                p[(i * n) + j] = scale * s;
            }
        }

        return p;
    }
}
