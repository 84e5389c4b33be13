using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// The numerical core of the unscented filter: drawing sigma points from a mean and covariance, and weighted means,
/// covariances and cross-covariances of transformed points. Points are stored row by row (count × dimension);
/// residuals about a mean component by component (dimension × count), so each weighted sum is a contiguous dot
/// product accumulated over the points in their order.
/// </summary>
internal static class UnscentedTransform
{
    /// <summary>
    /// Writes the 2n+1 points x, x + U_k, x − U_k with U the upper Cholesky factor of spread·P (rows U_k).
    /// </summary>
    /// <param name="mean">x.</param>
    /// <param name="covariance">P; with <paramref name="repair"/> it is replaced by its positive semi-definite
    /// repair when the Cholesky factorisation fails.</param>
    /// <param name="n">State dimension.</param>
    /// <param name="spread">The covariance scale (n + λ).</param>
    /// <param name="points">Receives (2n+1)×n values.</param>
    /// <param name="repair">When true, a failed factorisation falls back to the eigen square root of P with negative
    /// eigenvalues clipped to zero.</param>
    /// <param name="u">Workspace (n×n) for the square root.</param>
    /// <param name="repaired">True when P had negative eigenvalues and was changed.</param>
    /// <returns>False when no square root exists (the factorisation failed without repair, or P is not finite).</returns>
    public static bool Draw(ReadOnlySpan<double> mean, Span<double> covariance, int n, double spread, Span<double> points, bool repair, Span<double> u, out bool repaired)
    {
        repaired = false;
        var ok = ScaledUpperCholesky(covariance, n, spread, u)
            || (repair && EigenRoot(covariance, n, spread, u, out repaired));
        if (ok)
        {
            var x = mean[..n];
            x.CopyTo(points[..n]);
            for (var k = 0; k < n; k++)
            {
                var row = u.Slice(k * n, n);
                var plus = points.Slice((k + 1) * n, n);
                var minus = points.Slice((n + k + 1) * n, n);
                for (var j = 0; j < x.Length; j++)
                {
                    plus[j] = x[j] + row[j];
                    minus[j] = x[j] - row[j];
                }
            }
        }

        return ok;
    }

    /// <summary>
    /// U (upper, row-major) with U'U = c·P, reading only the upper triangle of P (as LAPACK's upper factorisation does).
    /// </summary>
    public static bool ScaledUpperCholesky(ReadOnlySpan<double> p, int n, double c, Span<double> u)
    {
        for (var j = 0; j < n; j++)
        {
            var d = c * p[(j * n) + j];
            for (var k = 0; k < j; k++)
            {
                var ukj = u[(k * n) + j];
                d -= ukj * ukj;
            }

            if (!(d > 0.0) || double.IsInfinity(d))
            {
                return false;
            }

            var ujj = Math.Sqrt(d);
            u[(j * n) + j] = ujj;

            // The row is scaled by the reciprocal of the pivot, as OpenBLAS's unblocked factorisation does.
            var inv = 1.0 / ujj;
            for (var i = j + 1; i < n; i++)
            {
                var s = c * p[(j * n) + i];
                for (var k = 0; k < j; k++)
                {
                    s -= u[(k * n) + j] * u[(k * n) + i];
                }

                u[(j * n) + i] = s * inv;
                u[(i * n) + j] = 0.0;
            }
        }

        return true;
    }

    /// <summary>
    /// A square root U'U = c·P⁺ from the eigen-decomposition of the symmetrised P, where P⁺ clips negative eigenvalues
    /// to zero. P is overwritten by P⁺ when any eigenvalue was negative.
    /// </summary>
    private static bool EigenRoot(Span<double> p, int n, double c, Span<double> u, out bool changed)
    {
        changed = false;
        var nn = n * n;
        if (!Dense.AllFinite(p[..nn]))
        {
            return false;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var work = arena.Take(nn);
        var values = arena.Take(n);
        var vectors = arena.Take(nn);
        Dense.Symmetrize(p, n);
        p[..nn].CopyTo(work);
        Dense.SymmetricEigen(work, n, values, vectors);
        for (var k = 0; k < n; k++)
        {
            if (values[k] < 0.0)
            {
                values[k] = 0.0;
                changed = true;
            }

            var scale = Math.Sqrt(c * values[k]);
            for (var j = 0; j < n; j++)
            {
                u[(k * n) + j] = scale * vectors[(j * n) + k];
            }
        }

        if (changed)
        {
            p[..nn].Clear();
            for (var k = 0; k < n; k++)
            {
                for (var i = 0; i < n; i++)
                {
                    var vik = vectors[(i * n) + k] * values[k];
                    for (var j = 0; j < n; j++)
                    {
                        p[(i * n) + j] += vik * vectors[(j * n) + k];
                    }
                }
            }

            Dense.Symmetrize(p, n);
        }

        arena.Release(mark);
        return true;
    }

    /// <summary>
    /// Weighted mean Σ W_i X_i of <paramref name="count"/> points. The centred form X_0 + Σ_{i≥1} W_i (X_i − X_0)
    /// (valid because the weights sum to one) avoids the cancellation of large weights of opposite sign.
    /// </summary>
    public static void Mean(ReadOnlySpan<double> points, int count, int dim, ReadOnlySpan<double> weights, Span<double> mean, bool centred)
    {
        for (var j = 0; j < dim; j++)
        {
            if (centred)
            {
                var x0 = points[j];
                var s = 0.0;
                for (var i = 1; i < count; i++)
                {
                    s += weights[i] * (points[(i * dim) + j] - x0);
                }

                mean[j] = x0 + s;
            }
            else
            {
                var s = 0.0;
                for (var i = 0; i < count; i++)
                {
                    s += weights[i] * points[(i * dim) + j];
                }

                mean[j] = s;
            }
        }
    }

    /// <summary>
    /// Residuals X_i − mean, written transposed (dim × count: row j holds component j of every point) so that the
    /// weighted sums below run over contiguous memory.
    /// </summary>
    public static void Residuals(ReadOnlySpan<double> points, int count, int dim, ReadOnlySpan<double> mean, Span<double> residuals)
    {
        for (var i = 0; i < count; i++)
        {
            var point = points.Slice(i * dim, dim);
            for (var j = 0; j < point.Length; j++)
            {
                residuals[(j * count) + i] = point[j] - mean[j];
            }
        }
    }

    /// <summary>Σ W_i r_i r_i' from transposed residuals, symmetric by construction (upper triangle mirrored).</summary>
    /// <remarks>Each entry is accumulated over the points in order as r_ia (W_i r_ib), the products NumPy forms.</remarks>
    public static void Covariance(ReadOnlySpan<double> residuals, int count, int dim, ReadOnlySpan<double> weights, Span<double> covariance)
    {
        var w = weights[..count];
        for (var a = 0; a < dim; a++)
        {
            var ra = residuals.Slice(a * count, w.Length);
            for (var b = a; b < dim; b++)
            {
                var rb = residuals.Slice(b * count, w.Length);
                var s = 0.0;
                for (var i = 0; i < w.Length; i++)
                {
                    s += ra[i] * (w[i] * rb[i]);
                }

                covariance[(a * dim) + b] = s;
                covariance[(b * dim) + a] = s;
            }
        }
    }

    /// <summary>Σ W_i r_i s_i' (dx × dz) from two sets of transposed residuals.</summary>
    /// <remarks>Accumulated over the points in order as W_i (r_ia s_ib), FilterPy's <c>Wc[i] * outer(dx, dz)</c>.</remarks>
    public static void CrossCovariance(ReadOnlySpan<double> rx, int dx, ReadOnlySpan<double> rz, int dz, int count, ReadOnlySpan<double> weights, Span<double> cross)
    {
        var w = weights[..count];
        for (var a = 0; a < dx; a++)
        {
            var ra = rx.Slice(a * count, w.Length);
            for (var b = 0; b < dz; b++)
            {
                var rb = rz.Slice(b * count, w.Length);
                var s = 0.0;
                for (var i = 0; i < w.Length; i++)
                {
                    s += w[i] * (ra[i] * rb[i]);
                }

                cross[(a * dz) + b] = s;
            }
        }
    }
}
