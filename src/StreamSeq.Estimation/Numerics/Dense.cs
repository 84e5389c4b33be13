using System.Runtime.CompilerServices;

namespace StreamSeq.Estimation.Numerics;

/// <summary>
/// Small dense linear algebra on row-major spans, written for the few-dimensional matrices of filters: no
/// allocation, no bounds beyond the spans', loops the JIT keeps in registers.
/// </summary>
internal static class Dense
{
    /// <summary>C (r×c) = A (r×k) · B (k×c).</summary>
    public static void Multiply(ReadOnlySpan<double> a, int r, int k, ReadOnlySpan<double> b, int c, Span<double> result)
    {
        for (var i = 0; i < r; i++)
        {
            var row = result.Slice(i * c, c);
            row.Clear();
            for (var p = 0; p < k; p++)
            {
                var aip = a[(i * k) + p];
                if (aip == 0.0)
                {
                    continue;
                }

                var brow = b.Slice(p * c, c);
                for (var j = 0; j < c; j++)
                {
                    row[j] += aip * brow[j];
                }
            }
        }
    }

    /// <summary>C (r×c) = A (r×k) · B' where B is c×k.</summary>
    public static void MultiplyTransposed(ReadOnlySpan<double> a, int r, int k, ReadOnlySpan<double> b, int c, Span<double> result)
    {
        for (var i = 0; i < r; i++)
        {
            var arow = a.Slice(i * k, k);
            for (var j = 0; j < c; j++)
            {
                var brow = b.Slice(j * k, k);
                var s = 0.0;
                for (var p = 0; p < k; p++)
                {
                    s += arow[p] * brow[p];
                }

                result[(i * c) + j] = s;
            }
        }
    }

    /// <summary>C (r×c) = A' · B where A is k×r and B is k×c.</summary>
    public static void TransposedMultiply(ReadOnlySpan<double> a, int k, int r, ReadOnlySpan<double> b, int c, Span<double> result)
    {
        result[..(r * c)].Clear();
        for (var p = 0; p < k; p++)
        {
            var brow = b.Slice(p * c, c);
            for (var i = 0; i < r; i++)
            {
                var api = a[(p * r) + i];
                if (api == 0.0)
                {
                    continue;
                }

                var row = result.Slice(i * c, c);
                for (var j = 0; j < c; j++)
                {
                    row[j] += api * brow[j];
                }
            }
        }
    }

    /// <summary>y (r) = A (r×c) · x (c).</summary>
    public static void MultiplyVector(ReadOnlySpan<double> a, int r, int c, ReadOnlySpan<double> x, Span<double> y)
    {
        for (var i = 0; i < r; i++)
        {
            var row = a.Slice(i * c, c);
            var s = 0.0;
            for (var j = 0; j < c; j++)
            {
                s += row[j] * x[j];
            }

            y[i] = s;
        }
    }

    /// <summary>Result (r×r) = A (r×n) · P (n×n) · A', using <paramref name="scratch"/> (r×n).</summary>
    public static void Sandwich(ReadOnlySpan<double> a, int r, int n, ReadOnlySpan<double> p, Span<double> scratch, Span<double> result)
    {
        Multiply(a, r, n, p, n, scratch);
        MultiplyTransposed(scratch, r, n, a, r, result);
    }

    /// <summary>Replaces P by (P + P') / 2.</summary>
    public static void Symmetrize(Span<double> p, int n)
    {
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var v = 0.5 * (p[(i * n) + j] + p[(j * n) + i]);
                p[(i * n) + j] = v;
                p[(j * n) + i] = v;
            }
        }
    }

    /// <summary>Lower Cholesky factor in place (upper triangle zeroed). False when A is not positive definite.</summary>
    public static bool Cholesky(Span<double> a, int n)
    {
        for (var j = 0; j < n; j++)
        {
            var d = a[(j * n) + j];
            for (var k = 0; k < j; k++)
            {
                var l = a[(j * n) + k];
                d -= l * l;
            }

            if (!(d > 0.0) || double.IsInfinity(d))
            {
                return false;
            }

            FactorColumn(a, n, j, d);

            for (var i = 0; i < j; i++)
            {
                a[(i * n) + j] = 0.0;
            }
        }

        return true;
    }

    /// <summary>
    /// Lower Cholesky factor in place of a positive semi-definite A (upper triangle zeroed), with the columns of
    /// directions A does not reach set to zero: a pivot at or below <paramref name="relativeTolerance"/> times its
    /// own diagonal entry of A is rounding left by cancellation, not a variance, and dividing by it would amplify
    /// rounding without bound. With no such pivot the factor is <see cref="Cholesky"/>'s, operation for operation.
    /// False only when A holds a non-finite number.
    /// </summary>
    public static bool SemidefiniteCholesky(Span<double> a, int n, double relativeTolerance)
    {
        for (var j = 0; j < n; j++)
        {
            var diagonal = a[(j * n) + j];
            var d = diagonal;
            for (var k = 0; k < j; k++)
            {
                var l = a[(j * n) + k];
                d -= l * l;
            }

            if (!double.IsFinite(d))
            {
                return false;
            }

            for (var i = 0; i < j; i++)
            {
                a[(i * n) + j] = 0.0;
            }

            if (!(d > relativeTolerance * diagonal) || !(d > 0.0))
            {
                for (var i = j; i < n; i++)
                {
                    a[(i * n) + j] = 0.0;
                }

                continue;
            }

            FactorColumn(a, n, j, d);
        }

        return true;
    }

    /// <summary>Column <paramref name="j"/> of a Cholesky factor in place, from its positive pivot <paramref name="d"/>
    /// (the diagonal entry less the squares to its left) and the columns before it.</summary>
    private static void FactorColumn(Span<double> a, int n, int j, double d)
    {
        d = Math.Sqrt(d);
        a[(j * n) + j] = d;
        var inv = 1.0 / d;
        for (var i = j + 1; i < n; i++)
        {
            var s = a[(i * n) + j];
            for (var k = 0; k < j; k++)
            {
                s -= a[(i * n) + k] * a[(j * n) + k];
            }

            a[(i * n) + j] = s * inv;
        }
    }

    /// <summary>
    /// A solution of A X = B in place for B (n×c), given <see cref="SemidefiniteCholesky"/>'s factor of A: the
    /// components along directions the factor dropped are set to zero, so X is a generalised inverse of A applied to
    /// B, exact when B lies in the range of A (and <see cref="CholeskySolve"/> when nothing was dropped).
    /// </summary>
    public static void SemidefiniteCholeskySolve(ReadOnlySpan<double> l, int n, Span<double> b, int c)
    {
        for (var col = 0; col < c; col++)
        {
            for (var i = 0; i < n; i++)
            {
                var lii = l[(i * n) + i];
                if (lii == 0.0)
                {
                    b[(i * c) + col] = 0.0;
                    continue;
                }

                var s = b[(i * c) + col];
                for (var k = 0; k < i; k++)
                {
                    s -= l[(i * n) + k] * b[(k * c) + col];
                }

                b[(i * c) + col] = s / lii;
            }

            for (var i = n - 1; i >= 0; i--)
            {
                var lii = l[(i * n) + i];
                if (lii == 0.0)
                {
                    b[(i * c) + col] = 0.0;
                    continue;
                }

                var s = b[(i * c) + col];
                for (var k = i + 1; k < n; k++)
                {
                    s -= l[(k * n) + i] * b[(k * c) + col];
                }

                b[(i * c) + col] = s / lii;
            }
        }
    }

    /// <summary>Solves L L' X = B in place for B (n×c) given the lower Cholesky factor L.</summary>
    public static void CholeskySolve(ReadOnlySpan<double> l, int n, Span<double> b, int c)
    {
        for (var col = 0; col < c; col++)
        {
            // Forward: L z = b.
            for (var i = 0; i < n; i++)
            {
                var s = b[(i * c) + col];
                for (var k = 0; k < i; k++)
                {
                    s -= l[(i * n) + k] * b[(k * c) + col];
                }

                b[(i * c) + col] = s / l[(i * n) + i];
            }

            // Backward: L' x = z.
            for (var i = n - 1; i >= 0; i--)
            {
                var s = b[(i * c) + col];
                for (var k = i + 1; k < n; k++)
                {
                    s -= l[(k * n) + i] * b[(k * c) + col];
                }

                b[(i * c) + col] = s / l[(i * n) + i];
            }
        }
    }

    /// <summary>Solves L z = b in place (forward substitution) for a vector.</summary>
    public static void ForwardSubstitute(ReadOnlySpan<double> l, int n, Span<double> b)
    {
        for (var i = 0; i < n; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++)
            {
                s -= l[(i * n) + k] * b[k];
            }

            b[i] = s / l[(i * n) + i];
        }
    }

    /// <summary>log det(A) from the lower Cholesky factor of A.</summary>
    public static double LogDeterminantFromCholesky(ReadOnlySpan<double> l, int n)
    {
        var s = 0.0;
        for (var i = 0; i < n; i++)
        {
            s += Math.Log(l[(i * n) + i]);
        }

        return 2.0 * s;
    }

    /// <summary>True when every element is finite.</summary>
    public static bool AllFinite(ReadOnlySpan<double> x)
    {
        foreach (var v in x)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Writes the n×n identity.</summary>
    public static void Identity(Span<double> a, int n)
    {
        a[..(n * n)].Clear();
        for (var i = 0; i < n; i++)
        {
            a[(i * n) + i] = 1.0;
        }
    }

    /// <summary>
    /// Cheap necessary conditions for a symmetric positive semi-definite matrix: finite, non-negative diagonal and
    /// |P_ij|² ≤ P_ii P_jj (with a relative slack for rounding).
    /// </summary>
    public static bool LooksPositiveSemiDefinite(ReadOnlySpan<double> p, int n)
    {
        for (var i = 0; i < n; i++)
        {
            var pii = p[(i * n) + i];
            if (!(pii >= 0.0) || double.IsInfinity(pii))
            {
                return false;
            }

            for (var j = 0; j < i; j++)
            {
                var pij = p[(i * n) + j];
                if (!double.IsFinite(pij) || pij * pij > pii * p[(j * n) + j] * (1.0 + 1e-9) + 1e-300)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Symmetric eigen-decomposition by cyclic Jacobi rotations: A = V diag(w) V'. <paramref name="a"/> is destroyed.
    /// </summary>
    public static void SymmetricEigen(Span<double> a, int n, Span<double> eigenvalues, Span<double> eigenvectors)
    {
        Identity(eigenvectors, n);

        // Stop when the off-diagonal mass is negligible relative to the whole matrix, so that covariances of any
        // scale (1e-12 or 1e12) are diagonalised alike.
        var total = 0.0;
        for (var i = 0; i < n * n; i++)
        {
            total += a[i] * a[i];
        }

        for (var sweep = 0; sweep < 100; sweep++)
        {
            var off = 0.0;
            for (var i = 0; i < n; i++)
            {
                for (var j = i + 1; j < n; j++)
                {
                    off += a[(i * n) + j] * a[(i * n) + j];
                }
            }

            if (off <= 1e-30 * total)
            {
                break;
            }

            for (var p = 0; p < n; p++)
            {
                for (var q = p + 1; q < n; q++)
                {
                    var apq = a[(p * n) + q];
                    if (Math.Abs(apq) < 1e-300)
                    {
                        continue;
                    }

                    var app = a[(p * n) + p];
                    var aqq = a[(q * n) + q];
                    var theta = (aqq - app) / (2.0 * apq);
                    var t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1.0));
                    if (theta == 0.0)
                    {
                        t = 1.0;
                    }

                    var c = 1.0 / Math.Sqrt((t * t) + 1.0);
                    var s = t * c;
                    for (var k = 0; k < n; k++)
                    {
                        var akp = a[(k * n) + p];
                        var akq = a[(k * n) + q];
                        a[(k * n) + p] = (c * akp) - (s * akq);
                        a[(k * n) + q] = (s * akp) + (c * akq);
                    }

                    for (var k = 0; k < n; k++)
                    {
                        var apk = a[(p * n) + k];
                        var aqk = a[(q * n) + k];
                        a[(p * n) + k] = (c * apk) - (s * aqk);
                        a[(q * n) + k] = (s * apk) + (c * aqk);
                    }

                    for (var k = 0; k < n; k++)
                    {
                        var vkp = eigenvectors[(k * n) + p];
                        var vkq = eigenvectors[(k * n) + q];
                        eigenvectors[(k * n) + p] = (c * vkp) - (s * vkq);
                        eigenvectors[(k * n) + q] = (s * vkp) + (c * vkq);
                    }
                }
            }
        }

        for (var i = 0; i < n; i++)
        {
            eigenvalues[i] = a[(i * n) + i];
        }
    }

    /// <summary>
    /// Makes a covariance symmetric positive semi-definite by clipping negative eigenvalues to zero.
    /// Returns false when the matrix holds non-finite values (nothing to repair).
    /// </summary>
    public static bool RepairCovariance(Span<double> p, int n)
    {
        if (!AllFinite(p[..(n * n)]))
        {
            return false;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var work = arena.Take(n * n);
        var values = arena.Take(n);
        var vectors = arena.Take(n * n);
        Symmetrize(p, n);
        p[..(n * n)].CopyTo(work);
        SymmetricEigen(work, n, values, vectors);
        p[..(n * n)].Clear();
        for (var k = 0; k < n; k++)
        {
            var lambda = Math.Max(values[k], 0.0);
            if (lambda == 0.0)
            {
                continue;
            }

            for (var i = 0; i < n; i++)
            {
                var vik = vectors[(i * n) + k] * lambda;
                for (var j = 0; j < n; j++)
                {
                    p[(i * n) + j] += vik * vectors[(j * n) + k];
                }
            }
        }

        Symmetrize(p, n);
        arena.Release(mark);
        return true;
    }

    /// <summary>Inverts a symmetric positive definite matrix in place via Cholesky. False when not PD.</summary>
    public static bool InvertSymmetricPositiveDefinite(Span<double> a, int n)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var l = arena.Take(n * n);
        a[..(n * n)].CopyTo(l);
        if (!Cholesky(l, n))
        {
            arena.Release(mark);
            return false;
        }

        Identity(a, n);
        CholeskySolve(l, n, a, n);
        Symmetrize(a, n);
        arena.Release(mark);
        return true;
    }

    /// <summary>Solves A X = B in place by LU with partial pivoting; A (n×n) is destroyed. False when singular.</summary>
    public static bool Solve(Span<double> a, int n, Span<double> b, int c)
    {
        for (var k = 0; k < n; k++)
        {
            var pivot = k;
            var max = Math.Abs(a[(k * n) + k]);
            for (var i = k + 1; i < n; i++)
            {
                var v = Math.Abs(a[(i * n) + k]);
                if (v > max)
                {
                    max = v;
                    pivot = i;
                }
            }

            if (max == 0.0 || !double.IsFinite(max))
            {
                return false;
            }

            if (pivot != k)
            {
                SwapRows(a, n, k, pivot);
                SwapRows(b, c, k, pivot);
            }

            var inv = 1.0 / a[(k * n) + k];
            for (var i = k + 1; i < n; i++)
            {
                var f = a[(i * n) + k] * inv;
                if (f == 0.0)
                {
                    continue;
                }

                for (var j = k; j < n; j++)
                {
                    a[(i * n) + j] -= f * a[(k * n) + j];
                }

                for (var j = 0; j < c; j++)
                {
                    b[(i * c) + j] -= f * b[(k * c) + j];
                }
            }
        }

        for (var i = n - 1; i >= 0; i--)
        {
            for (var j = 0; j < c; j++)
            {
                var s = b[(i * c) + j];
                for (var k = i + 1; k < n; k++)
                {
                    s -= a[(i * n) + k] * b[(k * c) + j];
                }

                b[(i * c) + j] = s / a[(i * n) + i];
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SwapRows(Span<double> m, int cols, int r1, int r2)
    {
        for (var j = 0; j < cols; j++)
        {
            (m[(r1 * cols) + j], m[(r2 * cols) + j]) = (m[(r2 * cols) + j], m[(r1 * cols) + j]);
        }
    }
}
