namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>
/// The Gaussian negative log-likelihood of one observation under a head's raw output, in normalised units, and its
/// gradient with respect to that output.
/// </summary>
/// <remarks>
/// <para>Residual r = y − u[0..m) (normalised). Diagonal log-variance s: ℓ = Σ_j ½(log 2π + s_j + r_j² e^{−s_j});
/// ∂ℓ/∂μ_j = −r_j e^{−s_j}, ∂ℓ/∂s_j = ½(1 − r_j² e^{−s_j}); missing components are left out.</para>
/// <para>Cholesky forms: L lower with diagonal φ(p) (exp or softplus), z = L⁻¹r, w = L⁻ᵀz;
/// ℓ = ½ m log 2π + Σ log L_jj + ½ zᵀz, ∂ℓ/∂μ = −w, ∂ℓ/∂L_rc = −w_r z_c (+ 1/L_rr on the diagonal), chained
/// through φ' (L_rr for exp, sigmoid(p) for softplus). Steps with some but not all components observed give no
/// training signal in these forms (their marginal is still evaluated when reporting the likelihood).</para>
/// <para>Point head with fixed normalised variance v: ℓ = Σ_j ½(log 2π v_j + r_j²/v_j), ∂ℓ/∂μ_j = −r_j/v_j.</para>
/// </remarks>
internal static class HeadLoss
{
    private const double Log2Pi = 1.8378770664093453;

    /// <summary>Writes ∂ℓ/∂u into <paramref name="gradient"/> (zeros when the step gives no signal) and returns
    /// false when it gives none.</summary>
    public static bool Evaluate(RecurrentLayout layout, ReadOnlySpan<double> pointVariance, ReadOnlySpan<double> raw, ReadOnlySpan<double> target, Span<double> gradient, out double loss)
    {
        var m = layout.ObservationDimension;
        gradient.Clear();
        loss = 0.0;
        var observed = 0;
        for (var j = 0; j < m; j++)
        {
            if (!double.IsNaN(target[j]))
            {
                observed++;
            }
        }

        if (observed == 0)
        {
            return false;
        }

        if (layout.Head == RecurrentHeadType.Point)
        {
            for (var j = 0; j < m; j++)
            {
                if (double.IsNaN(target[j]))
                {
                    continue;
                }

                var r = target[j] - raw[j];
                loss += 0.5 * (Log2Pi + Math.Log(pointVariance[j]) + (r * r / pointVariance[j]));
                gradient[j] = -r / pointVariance[j];
            }

            return true;
        }

        if (layout.CovarianceForm == GaussianCovarianceForm.DiagonalLogVariance)
        {
            for (var j = 0; j < m; j++)
            {
                if (double.IsNaN(target[j]))
                {
                    continue;
                }

                var r = target[j] - raw[j];
                var s = raw[m + j];
                var precision = Math.Exp(-s);
                loss += 0.5 * (Log2Pi + s + (r * r * precision));
                gradient[j] = -r * precision;
                gradient[m + j] = 0.5 * (1.0 - (r * r * precision));
            }

            return true;
        }

        if (observed < m)
        {
            return false;
        }

        Span<double> l = stackalloc double[m * m];
        Span<double> z = stackalloc double[m];
        Span<double> w = stackalloc double[m];
        var p = raw[m..];
        var exp = layout.CovarianceForm == GaussianCovarianceForm.CholeskyExp;
        var k = 0;
        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c <= r; c++)
            {
                l[(r * m) + c] = r == c ? (exp ? Math.Exp(p[k]) : RecurrentLayout.Softplus(p[k])) : p[k];
                k++;
            }
        }

        for (var a = 0; a < m; a++)
        {
            var s = target[a] - raw[a];
            for (var b = 0; b < a; b++)
            {
                s -= l[(a * m) + b] * z[b];
            }

            z[a] = s / l[(a * m) + a];
            loss += Math.Log(l[(a * m) + a]) + (0.5 * z[a] * z[a]);
        }

        loss += 0.5 * m * Log2Pi;
        for (var a = m - 1; a >= 0; a--)
        {
            var s = z[a];
            for (var b = a + 1; b < m; b++)
            {
                s -= l[(b * m) + a] * w[b];
            }

            w[a] = s / l[(a * m) + a];
        }

        for (var j = 0; j < m; j++)
        {
            gradient[j] = -w[j];
        }

        k = 0;
        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c <= r; c++)
            {
                var dl = -w[r] * z[c];
                if (r == c)
                {
                    dl += 1.0 / l[(r * m) + r];
                    dl *= exp ? l[(r * m) + r] : TrainMath.Sigmoid(p[k]);
                }

                gradient[m + k] = dl;
                k++;
            }
        }

        return true;
    }
}
