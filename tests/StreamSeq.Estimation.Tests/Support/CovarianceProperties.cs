using MathNet.Numerics.LinearAlgebra;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>What every reported covariance must satisfy, checked with MathNet's eigen-decomposition (not the code
/// under test): variances never negative, NaN or −∞; finite entries symmetric; a finite matrix positive
/// semi-definite up to rounding.</summary>
internal static class CovarianceProperties
{
    /// <summary>The first violated property of the n×n <paramref name="c"/>, or null. +∞ variances (an exact diffuse
    /// prior) are allowed only when <paramref name="allowInfinite"/>.</summary>
    public static string? Violation(ReadOnlySpan<double> c, int n, bool allowInfinite)
    {
        var finite = true;
        for (var i = 0; i < n; i++)
        {
            var d = c[(i * n) + i];
            if (double.IsNaN(d) || d < 0.0)
            {
                return $"variance [{i}] is {d}";
            }

            if (double.IsPositiveInfinity(d))
            {
                if (!allowInfinite)
                {
                    return $"variance [{i}] is infinite";
                }

                finite = false;
            }
        }

        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < i; j++)
            {
                double a = c[(i * n) + j], b = c[(j * n) + i];
                if (double.IsNaN(a) || double.IsNaN(b))
                {
                    return $"covariance [{i},{j}] is NaN";
                }

                if (double.IsInfinity(a) || double.IsInfinity(b))
                {
                    if (!allowInfinite || a != b)
                    {
                        return $"covariance [{i},{j}] = {a}, [{j},{i}] = {b}";
                    }

                    finite = false;
                    continue;
                }

                var scale = Math.Sqrt(c[(i * n) + i] * c[(j * n) + j]);
                if (Math.Abs(a - b) > 1e-9 * scale)
                {
                    return $"not symmetric at [{i},{j}]: {a:R} vs {b:R}";
                }
            }
        }

        if (!finite)
        {
            return null;
        }

        var values = c[..(n * n)].ToArray();
        if (values.Any(v => double.IsInfinity(v * 0.5) || Math.Abs(v) > 1e300))
        {
            return $"covariance entries overflow ({values.Max(Math.Abs):G3})";
        }

        var matrix = Matrix<double>.Build.Dense(n, n, (i, j) => 0.5 * (values[(i * n) + j] + values[(j * n) + i]));
        var eigenvalues = matrix.Evd(Symmetricity.Symmetric).EigenValues.Select(v => v.Real).ToArray();
        var largest = eigenvalues.Max(Math.Abs);
        var smallest = eigenvalues.Min();
        return smallest < -1e-9 * largest ? $"not positive semi-definite: eigenvalue {smallest:G3} (largest {largest:G3})" : null;
    }
}
