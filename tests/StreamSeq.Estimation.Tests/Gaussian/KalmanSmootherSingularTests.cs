using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// Smoothing when the predicted covariance is singular: no transition noise and a rank-deficient prior, so the state
/// moves deterministically on a subspace. Then h_{t+1} = F h_t + c exactly, and the smoothed moments must obey the
/// same map: F^(T−t) m^s_t + offsets = m^s_T and F^(T−t) P^s_t F^(T−t)' = P^s_T, with m^s_T, P^s_T the filtered moments
/// at the end. That is a reference that does not depend on how the backward step inverts P⁻.
/// </summary>
public sealed class KalmanSmootherSingularTests
{
    [Theory]
    [InlineData(2, 1, 1, 0)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(3, 1, 1, 2)]
    [InlineData(3, 2, 2, 3)]
    [InlineData(3, 1, 2, 4)]
    [InlineData(3, 2, 1, 5)]
    public void FixedInterval_ZeroNoiseRankDeficientPrior_SmoothedMomentsFollowTheDynamics(int n, int m, int priorRank, int seed)
    {
        var random = new Random(20261207 + seed);
        double Draw(double scale) => Math.Round(scale * ((2.0 * random.NextDouble()) - 1.0), 2);

        // F near a rotation (neither growing nor shrinking much over the series), entries with two decimals so that
        // the spec holds them exactly.
        var f = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                f[(i * n) + j] = (i == j ? 0.9 : 0.0) + Draw(0.4);
            }
        }

        var c = new double[n * priorRank];
        for (var i = 0; i < c.Length; i++)
        {
            c[i] = Draw(2.0);
        }

        var p1 = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                for (var k = 0; k < priorRank; k++)
                {
                    p1[(i * n) + j] += c[(i * priorRank) + k] * c[(j * priorRank) + k];
                }
            }
        }

        var h = new double[m * n];
        for (var i = 0; i < h.Length; i++)
        {
            h[i] = Draw(1.5);
        }

        var r = new double[m * m];
        for (var i = 0; i < m; i++)
        {
            r[(i * m) + i] = 0.05 + Math.Abs(Draw(1.0));
        }

        var a1 = new double[n];
        for (var i = 0; i < n; i++)
        {
            a1[i] = Draw(1.0);
        }

        const int T = 20;
        var values = new double[T * m];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.NextDouble() < 0.1 ? double.NaN : 3.0 * ((2.0 * random.NextDouble()) - 1.0);
        }

        var estimator = ModelCatalog.Build(LinearGaussianSpecJson.Spec(n, m, f, new double[n * n], h, r, a1, p1));
        var (means, covs) = FixedIntervalSmoother.Smooth(estimator, new ObservationSeries(m, values));
        var endMean = means.AsSpan((T - 1) * n, n).ToArray();
        var endCov = covs.AsSpan((T - 1) * n * n, n * n).ToArray();
        var scale = Math.Max(1.0, endMean.Max(Math.Abs));
        var covScale = Math.Max(1e-3, endCov.Max(Math.Abs));
        for (var t = 0; t < T - 1; t++)
        {
            var mean = means.AsSpan(t * n, n).ToArray();
            var cov = covs.AsSpan(t * n * n, n * n).ToArray();
            for (var s = t; s < T - 1; s++)
            {
                mean = Multiply(f, n, mean, 1);
                cov = Multiply(Multiply(f, n, cov, n), n, Transpose(f, n), n);
            }

            for (var i = 0; i < n; i++)
            {
                Expect.Close(endMean[i], mean[i], 0, $"t={t + 1}: F^(T-t) m_s[{i}]", absTol: 1e-9 * scale);
            }

            for (var i = 0; i < n * n; i++)
            {
                Expect.Close(endCov[i], cov[i], 0, $"t={t + 1}: F^(T-t) P_s F^(T-t)'[{i}]", absTol: 1e-9 * covScale);
            }
        }
    }

    private static double[] Multiply(double[] a, int n, double[] b, int columns)
    {
        var result = new double[n * columns];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                var s = 0.0;
                for (var k = 0; k < n; k++)
                {
                    s += a[(i * n) + k] * b[(k * columns) + j];
                }

                result[(i * columns) + j] = s;
            }
        }

        return result;
    }

    private static double[] Transpose(double[] a, int n)
    {
        var result = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                result[(j * n) + i] = a[(i * n) + j];
            }
        }

        return result;
    }
}
