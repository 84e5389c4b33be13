using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>Update steps over the observed components shared by the nonlinear Gaussian filters.</summary>
internal static class GaussianUpdate
{
    private const double Log2Pi = 1.8378770664093453;

    /// <summary>Indices of the finite components of <paramref name="y"/>; returns how many.</summary>
    public static int Observed(ReadOnlySpan<double> y, Span<int> observed)
    {
        var k = 0;
        for (var i = 0; i < y.Length; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[k++] = i;
            }
        }

        return k;
    }

    /// <summary>
    /// Linearised update with the Joseph form: S = H_o P⁻ H_o' + R_oo (taken from the full predictive covariance),
    /// K = P⁻ H_o' S⁻¹, a = a⁻ + K v, P = (I − K H_o) P⁻ (I − K H_o)' + K R_oo K', symmetrised.
    /// </summary>
    /// <returns>
    /// False when S is not positive definite, or when the squared Mahalanobis distance of the innovation overflows (a
    /// reading such as 1e308: scored with log-likelihood −∞ and NIS +∞, as the Kalman filter does); the update is skipped.
    /// </returns>
    public static bool Joseph(
        int n,
        int m,
        Span<double> mean,
        Span<double> cov,
        ReadOnlySpan<double> h,
        ReadOnlySpan<double> r,
        ReadOnlySpan<double> observationMean,
        ReadOnlySpan<double> observationCovariance,
        ReadOnlySpan<double> y,
        ReadOnlySpan<int> observed,
        Estimate estimate)
    {
        var k = observed.Length;
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var ho = arena.Take(k * n);
        var s = arena.Take(k * k);
        var ro = arena.Take(k * k);
        var v = arena.Take(k);
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            h.Slice(ia * n, n).CopyTo(ho.Slice(a * n, n));
            v[a] = y[ia] - observationMean[ia];
            for (var b = 0; b < k; b++)
            {
                s[(a * k) + b] = observationCovariance[(ia * m) + observed[b]];
                ro[(a * k) + b] = r[(ia * m) + observed[b]];
            }
        }

        if (!Dense.Cholesky(s, k))
        {
            arena.Release(mark);
            return false;
        }

        // Kt = S⁻¹ H_o P⁻ (k×n), i.e. K = Kt'.
        var kt = arena.Take(k * n);
        Dense.Multiply(ho, k, n, cov, n, kt);
        Dense.CholeskySolve(s, k, kt, n);
        Statistics(s, k, v, arena.Take(k), estimate);
        if (!double.IsFinite(estimate.NormalizedInnovationSquared))
        {
            KalmanFilter.SkipReading(estimate, k);
            arena.Release(mark);
            return false;
        }

        for (var i = 0; i < n; i++)
        {
            var acc = 0.0;
            for (var a = 0; a < k; a++)
            {
                acc += kt[(a * n) + i] * v[a];
            }

            mean[i] += acc;
        }

        var amat = arena.Take(nn);
        Dense.TransposedMultiply(kt, k, n, ho, n, amat);
        for (var i = 0; i < nn; i++)
        {
            amat[i] = -amat[i];
        }

        for (var i = 0; i < n; i++)
        {
            amat[(i * n) + i] += 1.0;
        }

        var ap = arena.Take(nn);
        Dense.Multiply(amat, n, n, cov, n, ap);
        Dense.MultiplyTransposed(ap, n, n, amat, n, cov);
        var kr = arena.Take(n * k);
        Dense.TransposedMultiply(kt, k, n, ro, k, kr);
        var krk = arena.Take(nn);
        Dense.Multiply(kr, n, k, kt, n, krk);
        for (var i = 0; i < nn; i++)
        {
            cov[i] += krk[i];
        }

        Dense.Symmetrize(cov, n);
        arena.Release(mark);
        return true;
    }

    /// <summary>
    /// Sigma-point update: K = P_xz,o S_oo⁻¹, a = a⁻ + K v, P = P⁻ − K S_oo K' (FilterPy's form), with the
    /// state–observation cross-covariance P_xz (n×m) and S the full predictive covariance of y.
    /// </summary>
    /// <returns>False when S_oo is not positive definite, or the innovation's squared Mahalanobis distance overflows (the update is skipped).</returns>
    public static bool CrossCovariance(
        int n,
        int m,
        Span<double> mean,
        Span<double> cov,
        ReadOnlySpan<double> crossCovariance,
        ReadOnlySpan<double> observationMean,
        ReadOnlySpan<double> observationCovariance,
        ReadOnlySpan<double> y,
        ReadOnlySpan<int> observed,
        Estimate estimate)
    {
        var k = observed.Length;
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var block = arena.Take((2 * k * k) + (3 * k) + (2 * k * n) + nn);
        var s = block[..(k * k)];
        var l = block.Slice(k * k, k * k);
        var v = block.Slice(2 * k * k, k);
        var z = block.Slice((2 * k * k) + k, k);
        var kt = block.Slice((2 * k * k) + (2 * k), k * n);
        var sk = block.Slice((2 * k * k) + (2 * k) + (k * n), k * n);
        var ksk = block.Slice((2 * k * k) + (2 * k) + (2 * k * n), nn);
        var inverseDiagonal = block.Slice((2 * k * k) + (2 * k) + (2 * k * n) + nn, k);
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            v[a] = y[ia] - observationMean[ia];
            for (var b = 0; b < k; b++)
            {
                s[(a * k) + b] = observationCovariance[(ia * m) + observed[b]];
            }

            for (var i = 0; i < n; i++)
            {
                kt[(a * n) + i] = crossCovariance[(i * m) + ia];
            }
        }

        s.CopyTo(l);
        if (!Dense.Cholesky(l, k))
        {
            arena.Release(mark);
            return false;
        }

        // Kt = S⁻¹ P_xz,o' (k×n), i.e. K = Kt'.
        for (var a = 0; a < k; a++)
        {
            inverseDiagonal[a] = 1.0 / l[(a * k) + a];
        }

        SolveWithCholesky(l, inverseDiagonal, k, kt, n);
        Statistics(l, k, v, z, estimate);
        if (!double.IsFinite(estimate.NormalizedInnovationSquared))
        {
            KalmanFilter.SkipReading(estimate, k);
            arena.Release(mark);
            return false;
        }

        for (var i = 0; i < n; i++)
        {
            var acc = 0.0;
            for (var a = 0; a < k; a++)
            {
                acc += kt[(a * n) + i] * v[a];
            }

            mean[i] += acc;
        }

        // P −= K (S K') = Kt' (S Kt).
        Dense.Multiply(s, k, k, kt, n, sk);
        Dense.TransposedMultiply(kt, k, n, sk, n, ksk);
        for (var i = 0; i < nn; i++)
        {
            cov[i] -= ksk[i];
        }

        arena.Release(mark);
        return true;
    }

    /// <summary>Solves L L' X = B in place for B (k×c) with the lower factor L and the reciprocals of its diagonal.</summary>
    private static void SolveWithCholesky(ReadOnlySpan<double> l, ReadOnlySpan<double> inverseDiagonal, int k, Span<double> b, int c)
    {
        for (var col = 0; col < c; col++)
        {
            for (var i = 0; i < k; i++)
            {
                var s = b[(i * c) + col];
                for (var j = 0; j < i; j++)
                {
                    s -= l[(i * k) + j] * b[(j * c) + col];
                }

                b[(i * c) + col] = s * inverseDiagonal[i];
            }

            for (var i = k - 1; i >= 0; i--)
            {
                var s = b[(i * c) + col];
                for (var j = i + 1; j < k; j++)
                {
                    s -= l[(j * k) + i] * b[(j * c) + col];
                }

                b[(i * c) + col] = s * inverseDiagonal[i];
            }
        }
    }

    /// <summary>NIS = v' S⁻¹ v and log N(v; 0, S) from the lower Cholesky factor of S (<paramref name="z"/>: k scratch).</summary>
    internal static void Statistics(ReadOnlySpan<double> cholesky, int k, ReadOnlySpan<double> v, Span<double> z, Estimate estimate)
    {
        v.CopyTo(z);
        Dense.ForwardSubstitute(cholesky, k, z);
        var nis = 0.0;
        for (var a = 0; a < k; a++)
        {
            nis += z[a] * z[a];
        }

        estimate.NormalizedInnovationSquared = nis;
        estimate.LogLikelihood = -0.5 * ((k * Log2Pi) + Dense.LogDeterminantFromCholesky(cholesky, k) + nis);
        estimate.ObservedCount = k;
    }
}
