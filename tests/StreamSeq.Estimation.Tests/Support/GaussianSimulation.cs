using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>Draws data from a linear Gaussian model (proper prior at the first step), with components removed at random.</summary>
internal static class GaussianSimulation
{
    /// <summary>Simulates <paramref name="length"/> steps; each component is missing with probability
    /// <paramref name="missing"/>; <paramref name="gaps"/> (optional) gives the gap before each step.</summary>
    public static ObservationSeries Simulate(LinearGaussianModel model, int length, Random rng, double missing = 0.0, double[]? gaps = null)
    {
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        var h = new double[n];
        var next = new double[n];
        var f = new double[n * n];
        var q = new double[n * n];
        var c = new double[n];
        var values = new double[length * m];
        Draw(model.InitialMean, model.InitialCovariance, n, rng, h);
        for (var t = 0; t < length; t++)
        {
            if (t > 0)
            {
                Array.Clear(f);
                Array.Clear(q);
                Array.Clear(c);
                model.Dynamics.Discretize(gaps?[t] ?? 1.0, f, q, c);
                var mean = new double[n];
                for (var i = 0; i < n; i++)
                {
                    mean[i] = c[i];
                    for (var j = 0; j < n; j++)
                    {
                        mean[i] += f[(i * n) + j] * h[j];
                    }
                }

                Draw(mean, q, n, rng, next);
                next.CopyTo(h, 0);
            }

            var ym = new double[m];
            for (var i = 0; i < m; i++)
            {
                ym[i] = model.ObservationOffset[i];
                for (var j = 0; j < n; j++)
                {
                    ym[i] += model.Observation[(i * n) + j] * h[j];
                }
            }

            var y = new double[m];
            Draw(ym, model.ObservationNoise, m, rng, y);
            for (var i = 0; i < m; i++)
            {
                values[(t * m) + i] = rng.NextDouble() < missing ? double.NaN : y[i];
            }
        }

        return new ObservationSeries(m, values, gaps);
    }

    /// <summary>One standard normal draw (Box–Muller).</summary>
    public static double Normal(Random rng) => Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2.0 * Math.PI * rng.NextDouble());

    private static void Draw(ReadOnlySpan<double> mean, ReadOnlySpan<double> cov, int n, Random rng, Span<double> result)
    {
        // A PSD covariance (possibly singular): factor through the eigen-decomposition.
        var work = cov.ToArray();
        var values = new double[n];
        var vectors = new double[n * n];
        Dense.SymmetricEigen(work, n, values, vectors);
        var z = new double[n];
        for (var k = 0; k < n; k++)
        {
            z[k] = Math.Sqrt(Math.Max(values[k], 0.0)) * Normal(rng);
        }

        for (var i = 0; i < n; i++)
        {
            var s = mean[i];
            for (var k = 0; k < n; k++)
            {
                s += vectors[(i * n) + k] * z[k];
            }

            result[i] = s;
        }
    }
}
