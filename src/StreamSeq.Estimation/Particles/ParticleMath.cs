using System.Numerics.Tensors;
using StreamSeq.Estimation.Numerics;

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
    /// <remarks>Two-pass (centred) and vectorised: centred copies c_d = x_d − m_d, then Cov_ab = Σ_i (w_i c_ai) c_bi.
    /// Particles with zero weight are ignored even when their values are not finite.</remarks>
    public static void Moments(ReadOnlySpan<double> particles, int count, int dimension, ReadOnlySpan<double> weights, Span<double> mean, Span<double> covariance)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var centred = arena.Take(dimension * count);
        var weighted = arena.Take(count);
        for (var d = 0; d < dimension; d++)
        {
            var x = particles.Slice(d * count, count);
            var m = TensorPrimitives.Dot(weights, x);
            var c = centred.Slice(d * count, count);
            if (!double.IsFinite(m))
            {
                // Some particle is not finite: drop the zero-weight ones from the sums.
                m = 0.0;
                for (var i = 0; i < count; i++)
                {
                    if (weights[i] != 0.0)
                    {
                        m += weights[i] * x[i];
                    }
                }

                for (var i = 0; i < count; i++)
                {
                    c[i] = weights[i] != 0.0 ? x[i] - m : 0.0;
                }
            }
            else
            {
                TensorPrimitives.Subtract(x, m, c);
            }

            mean[d] = m;
        }

        for (var a = 0; a < dimension; a++)
        {
            TensorPrimitives.Multiply(weights, centred.Slice(a * count, count), weighted);
            for (var b = 0; b <= a; b++)
            {
                var s = TensorPrimitives.Dot(weighted, centred.Slice(b * count, count));
                covariance[(a * dimension) + b] = s;
                covariance[(b * dimension) + a] = s;
            }
        }

        arena.Release(mark);
    }
}
