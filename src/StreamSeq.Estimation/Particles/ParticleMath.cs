using System.Numerics.Tensors;

namespace StreamSeq.Estimation.Particles;

/// <summary>Weight normalisation in log space and weighted moments of structure-of-arrays particle populations.</summary>
internal static class ParticleMath
{
    /// <summary>
    /// Turns log-weights into normalised linear weights with the log-sum-exp trick.
    /// Non-finite log-weights (NaN) count as −∞. Returns log Σ exp(logWeights), or −∞ when no weight is positive
    /// and finite (degenerate); <paramref name="ess"/> receives (Σw)²/Σw².
    /// </summary>
    public static double Normalize(Span<double> logWeights, Span<double> weights, out double ess)
    {
        var max = TensorPrimitives.Max(logWeights);
        if (double.IsNaN(max))
        {
            for (var i = 0; i < logWeights.Length; i++)
            {
                if (double.IsNaN(logWeights[i]))
                {
                    logWeights[i] = double.NegativeInfinity;
                }
            }

            max = TensorPrimitives.Max(logWeights);
        }

        if (!double.IsFinite(max))
        {
            ess = 0.0;
            return double.NegativeInfinity;
        }

        TensorPrimitives.Subtract(logWeights, max, weights);
        TensorPrimitives.Exp(weights, weights);
        var sum = TensorPrimitives.Sum(weights);
        var sumSquares = TensorPrimitives.SumOfSquares(weights);
        ess = sum * sum / sumSquares;
        TensorPrimitives.Multiply(weights, 1.0 / sum, weights);
        return max + Math.Log(sum);
    }

    /// <summary>Weighted mean and covariance (row-major n×n) of a population; <paramref name="weights"/> sum to one.</summary>
    /// <remarks>Particles with zero weight are ignored even when their values are not finite.</remarks>
    public static void Moments(ReadOnlySpan<double> particles, int count, int dimension, ReadOnlySpan<double> weights, Span<double> mean, Span<double> covariance)
    {
        var safe = true;
        for (var d = 0; d < dimension; d++)
        {
            var m = TensorPrimitives.Dot(weights, particles.Slice(d * count, count));
            if (!double.IsFinite(m))
            {
                safe = false;
                m = 0.0;
                var x = particles.Slice(d * count, count);
                for (var i = 0; i < count; i++)
                {
                    if (weights[i] != 0.0)
                    {
                        m += weights[i] * x[i];
                    }
                }
            }

            mean[d] = m;
        }

        for (var a = 0; a < dimension; a++)
        {
            var xa = particles.Slice(a * count, count);
            var ma = mean[a];
            for (var b = 0; b <= a; b++)
            {
                var xb = particles.Slice(b * count, count);
                var mb = mean[b];
                var s = 0.0;
                if (safe)
                {
                    for (var i = 0; i < count; i++)
                    {
                        s += weights[i] * (xa[i] - ma) * (xb[i] - mb);
                    }
                }
                else
                {
                    for (var i = 0; i < count; i++)
                    {
                        var w = weights[i];
                        if (w != 0.0)
                        {
                            s += w * (xa[i] - ma) * (xb[i] - mb);
                        }
                    }
                }

                covariance[(a * dimension) + b] = s;
                covariance[(b * dimension) + a] = s;
            }
        }
    }
}
