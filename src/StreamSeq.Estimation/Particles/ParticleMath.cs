using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Particles;

/// <summary>Weight normalisation in log space and weighted moments of structure-of-arrays particle populations.</summary>
internal static class ParticleMath
{
    /// <summary>
    /// Turns log-weights into normalised linear weights with the log-sum-exp trick (one fused pass for the
    /// exponentials and both sums, using the managed vector exp).
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

        var (sum, sumSquares) = ExpSumAndSquares(logWeights, max, weights);
        ess = sum * sum / sumSquares;
        TensorPrimitives.Multiply(weights, 1.0 / sum, weights);
        return max + Math.Log(sum);
    }

    /// <summary>
    /// Rows of a one-dimensional Gaussian transition log-density: <c>logDensity[j * count + i]</c> = log N(next_j;
    /// mean_i, variance) for the <paramref name="count"/> transition means and <paramref name="nextCount"/> next states.
    /// </summary>
    public static void GaussianTransitionRows(ReadOnlySpan<double> mean, int count, ReadOnlySpan<double> next, int nextCount, double variance, Span<double> logDensity)
    {
        const double Log2Pi = 1.8378770664093453;
        var constant = -0.5 * (Log2Pi + Math.Log(variance));
        var scale = -0.5 / variance;
        ref var mr = ref MemoryMarshal.GetReference(mean);
        var cv = Vector256.Create(constant);
        var sv = Vector256.Create(scale);
        for (var j = 0; j < nextCount; j++)
        {
            var row = logDensity.Slice(j * count, count);
            ref var rr = ref MemoryMarshal.GetReference(row);
            var x = next[j];
            var xv = Vector256.Create(x);
            var i = 0;
            for (; i <= count - 4; i += 4)
            {
                var d = Vector256.LoadUnsafe(ref mr, (nuint)i) - xv;
                (cv + (sv * (d * d))).StoreUnsafe(ref rr, (nuint)i);
            }

            for (; i < count; i++)
            {
                var d = mean[i] - x;
                row[i] = constant + (scale * (d * d));
            }
        }
    }

    /// <summary>
    /// <paramref name="accumulated"/> += <paramref name="weight"/> · p, with p_i ∝ exp(row_i + logWeights_i) normalised
    /// over i (log-sum-exp with the maximum subtracted; NaN counts as −∞; terms more than 708 below the maximum, under
    /// 1e-307 of it, count as 0, which keeps the exponential on its fast path). Overwrites <paramref name="row"/>.
    /// Returns false, adding nothing, when no term is finite.
    /// </summary>
    public static bool AddNormalized(Span<double> row, ReadOnlySpan<double> logWeights, double weight, Span<double> accumulated)
    {
        var count = row.Length;
        ref var rr = ref MemoryMarshal.GetReference(row);
        ref var lr = ref MemoryMarshal.GetReference(logWeights[..count]);
        var negativeInfinity = Vector256.Create(double.NegativeInfinity);
        var maxV = negativeInfinity;
        var i = 0;
        for (; i <= count - 4; i += 4)
        {
            var v = Vector256.LoadUnsafe(ref rr, (nuint)i) + Vector256.LoadUnsafe(ref lr, (nuint)i);
            v = Vector256.ConditionalSelect(Vector256.Equals(v, v), v, negativeInfinity);
            v.StoreUnsafe(ref rr, (nuint)i);
            maxV = Vector256.Max(maxV, v);
        }

        var max = Math.Max(Math.Max(maxV[0], maxV[1]), Math.Max(maxV[2], maxV[3]));
        for (; i < count; i++)
        {
            var v = row[i] + logWeights[i];
            v = double.IsNaN(v) ? double.NegativeInfinity : v;
            row[i] = v;
            max = Math.Max(max, v);
        }

        if (!double.IsFinite(max))
        {
            return false;
        }

        const double Floor = -708.0;
        var shift = Vector256.Create(max);
        var floor = Vector256.Create(Floor);
        var sumV = Vector256<double>.Zero;
        for (i = 0; i <= count - 4; i += 4)
        {
            var d = Vector256.LoadUnsafe(ref rr, (nuint)i) - shift;
            var e = Vector256.AndNot(InlineMath.Exp(Vector256.Max(d, floor)), Vector256.LessThan(d, floor));
            e.StoreUnsafe(ref rr, (nuint)i);
            sumV += e;
        }

        var sum = Vector256.Sum(sumV);
        for (; i < count; i++)
        {
            var d = row[i] - max;
            var e = d < Floor ? 0.0 : InlineMath.Exp(d);
            row[i] = e;
            sum += e;
        }

        TensorPrimitives.MultiplyAdd(row, weight / sum, accumulated, accumulated);
        return true;
    }

    /// <summary>w = exp(x − shift) with the managed vector exp (<see cref="InlineMath"/>).</summary>
    public static void Exp(ReadOnlySpan<double> x, double shift, Span<double> w)
    {
        var count = x.Length;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var wr = ref MemoryMarshal.GetReference(w[..count]);
        var sv = Vector256.Create(shift);
        var i = 0;
        for (; i <= count - 4; i += 4)
        {
            InlineMath.Exp(Vector256.LoadUnsafe(ref xr, (nuint)i) - sv).StoreUnsafe(ref wr, (nuint)i);
        }

        for (; i < count; i++)
        {
            w[i] = InlineMath.Exp(x[i] - shift);
        }
    }

    /// <summary>w = exp(x − shift) with the managed vector exp, returning Σ w and Σ w² from the same pass.</summary>
    private static (double Sum, double Squares) ExpSumAndSquares(ReadOnlySpan<double> x, double shift, Span<double> w)
    {
        var count = x.Length;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var wr = ref MemoryMarshal.GetReference(w[..count]);
        var sv = Vector256.Create(shift);
        var s0 = Vector256<double>.Zero;
        var s1 = Vector256<double>.Zero;
        var q0 = Vector256<double>.Zero;
        var q1 = Vector256<double>.Zero;
        var i = 0;
        for (; i <= count - 8; i += 8)
        {
            var a = InlineMath.Exp(Vector256.LoadUnsafe(ref xr, (nuint)i) - sv);
            var b = InlineMath.Exp(Vector256.LoadUnsafe(ref xr, (nuint)(i + 4)) - sv);
            a.StoreUnsafe(ref wr, (nuint)i);
            b.StoreUnsafe(ref wr, (nuint)(i + 4));
            s0 += a;
            s1 += b;
            q0 += a * a;
            q1 += b * b;
        }

        var sum = Vector256.Sum(s0 + s1);
        var squares = Vector256.Sum(q0 + q1);
        for (; i < count; i++)
        {
            var a = InlineMath.Exp(x[i] - shift);
            w[i] = a;
            sum += a;
            squares += a * a;
        }

        return (sum, squares);
    }

    /// <summary>
    /// Weighted mean and variance of one coordinate in two fused passes (Σ w x, then Σ w (x − mean)²), the same
    /// sums as the general path in another order. Returns false when the mean is not finite.
    /// </summary>
    private static bool UnivariateMoments(ReadOnlySpan<double> x, ReadOnlySpan<double> weights, out double mean, out double variance)
    {
        var count = x.Length;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var wr = ref MemoryMarshal.GetReference(weights);
        var a0 = Vector256<double>.Zero;
        var a1 = Vector256<double>.Zero;
        var i = 0;
        for (; i <= count - 8; i += 8)
        {
            var u = (nuint)i;
            a0 += Vector256.LoadUnsafe(ref wr, u) * Vector256.LoadUnsafe(ref xr, u);
            a1 += Vector256.LoadUnsafe(ref wr, u + 4) * Vector256.LoadUnsafe(ref xr, u + 4);
        }

        var m = Vector256.Sum(a0 + a1);
        for (; i < count; i++)
        {
            m += weights[i] * x[i];
        }

        mean = m;
        variance = 0.0;
        if (!double.IsFinite(m))
        {
            return false;
        }

        var mv = Vector256.Create(m);
        a0 = Vector256<double>.Zero;
        a1 = Vector256<double>.Zero;
        for (i = 0; i <= count - 8; i += 8)
        {
            var u = (nuint)i;
            var c0 = Vector256.LoadUnsafe(ref xr, u) - mv;
            var c1 = Vector256.LoadUnsafe(ref xr, u + 4) - mv;
            a0 += (Vector256.LoadUnsafe(ref wr, u) * c0) * c0;
            a1 += (Vector256.LoadUnsafe(ref wr, u + 4) * c1) * c1;
        }

        var v = Vector256.Sum(a0 + a1);
        for (; i < count; i++)
        {
            var c = x[i] - m;
            v += weights[i] * c * c;
        }

        variance = v;
        return true;
    }

    /// <summary>Weighted mean and covariance (row-major n×n) of a population; <paramref name="weights"/> sum to one.</summary>
    /// <remarks>Two-pass (centred) and vectorised: centred copies c_d = x_d − m_d, then Cov_ab = Σ_i (w_i c_ai) c_bi.
    /// Particles with zero weight are ignored even when their values are not finite.</remarks>
    public static void Moments(ReadOnlySpan<double> particles, int count, int dimension, ReadOnlySpan<double> weights, Span<double> mean, Span<double> covariance)
    {
        if (dimension == 1 && UnivariateMoments(particles[..count], weights[..count], out var m1, out var v1))
        {
            mean[0] = m1;
            covariance[0] = v1;
            return;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var centred = arena.TakeUninitialized(dimension * count);
        var weighted = arena.TakeUninitialized(count);
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
