using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// A sigma-point set for the unscented transform: 2n+1 points x, x + U_k, x − U_k (k = 1..n), where U_k are the rows
/// of the upper Cholesky factor U of c·P (U'U = c·P), with mean weights W^m and covariance weights W^c.
/// </summary>
/// <remarks>
/// <para><b>Merwe</b> (scaled): λ = α²(n + κ) − n, c = n + λ, W^m_0 = λ/(n + λ), W^c_0 = W^m_0 + 1 − α² + β and
/// W^m_i = W^c_i = 1/(2(n + λ)). Small α keeps the points close to the mean (α = 1e-3 gives weights near 10⁶ and
/// a strongly negative W^c_0); β = 2 is optimal for Gaussian priors.</para>
/// <para><b>Julier</b> (original symmetric set): c = n + κ, W_0 = κ/(n + κ), W_i = 1/(2(n + κ)), the same
/// weights for mean and covariance. κ = 3 − n matches the fourth moment of a Gaussian in each direction; κ = 0 is
/// the spherical-radial cubature rule (equal weights 1/(2n) and no centre weight). Julier with κ equals Merwe with
/// α = 1, β = 0 and the same κ.</para>
/// <para>The point order, the use of the upper Cholesky factor's rows and the weights follow FilterPy 1.4.5
/// (<c>MerweScaledSigmaPoints</c>, <c>JulierSigmaPoints</c>), so results can be compared number for number.</para>
/// </remarks>
public sealed class SigmaPoints
{
    private SigmaPoints(SigmaPointScheme scheme, double alpha, double beta, double kappa)
    {
        Scheme = scheme;
        Alpha = alpha;
        Beta = beta;
        Kappa = kappa;
    }

    /// <summary>Which set.</summary>
    public SigmaPointScheme Scheme { get; }

    /// <summary>α, the spread of the Merwe set (1 for Julier).</summary>
    public double Alpha { get; }

    /// <summary>β, the prior-distribution correction of W^c_0 in the Merwe set (0 for Julier).</summary>
    public double Beta { get; }

    /// <summary>κ, the secondary scaling parameter.</summary>
    public double Kappa { get; }

    /// <summary>Van der Merwe's scaled sigma points.</summary>
    /// <exception cref="ModelValidationException">α is not positive, or β or κ is not finite.</exception>
    public static SigmaPoints Merwe(double alpha = 1.0, double beta = 2.0, double kappa = 0.0)
    {
        if (!(alpha > 0.0) || !double.IsFinite(alpha))
        {
            throw new ModelValidationException("sigmaPoints.alpha", $"must be a positive finite number, got {alpha}.");
        }

        if (!double.IsFinite(beta))
        {
            throw new ModelValidationException("sigmaPoints.beta", $"must be a finite number, got {beta}.");
        }

        if (!double.IsFinite(kappa))
        {
            throw new ModelValidationException("sigmaPoints.kappa", $"must be a finite number, got {kappa}.");
        }

        return new SigmaPoints(SigmaPointScheme.Merwe, alpha, beta, kappa);
    }

    /// <summary>Julier and Uhlmann's symmetric sigma points (κ = 0 gives the cubature rule).</summary>
    /// <exception cref="ModelValidationException">κ is not finite.</exception>
    public static SigmaPoints Julier(double kappa)
    {
        if (!double.IsFinite(kappa))
        {
            throw new ModelValidationException("sigmaPoints.kappa", $"must be a finite number, got {kappa}.");
        }

        return new SigmaPoints(SigmaPointScheme.Julier, 1.0, 0.0, kappa);
    }

    /// <summary>Number of points for n states: 2n + 1.</summary>
    public static int Count(int stateDimension) => (2 * stateDimension) + 1;

    /// <summary>The scale c of the covariance whose Cholesky rows are added to the mean (n + λ, or n + κ).</summary>
    public double Spread(int stateDimension)
    {
        var n = (double)stateDimension;
        return Scheme == SigmaPointScheme.Merwe ? Lambda(stateDimension) + n : n + Kappa;
    }

    /// <summary>Writes the mean and covariance weights for n states (2n + 1 each).</summary>
    public void Weights(int stateDimension, Span<double> meanWeights, Span<double> covarianceWeights)
    {
        var n = (double)stateDimension;
        var count = Count(stateDimension);
        if (meanWeights.Length < count || covarianceWeights.Length < count)
        {
            throw new ArgumentException($"the weight buffers need {count} entries.", nameof(meanWeights));
        }

        if (Scheme == SigmaPointScheme.Merwe)
        {
            var lambda = Lambda(stateDimension);
            var c = 0.5 / (n + lambda);
            meanWeights[..count].Fill(c);
            covarianceWeights[..count].Fill(c);
            meanWeights[0] = lambda / (n + lambda);
            covarianceWeights[0] = (lambda / (n + lambda)) + (1.0 - (Alpha * Alpha) + Beta);
        }
        else
        {
            var w = 0.5 / (n + Kappa);
            meanWeights[..count].Fill(w);
            meanWeights[0] = Kappa / (n + Kappa);
            meanWeights[..count].CopyTo(covarianceWeights);
        }
    }

    /// <summary>Checks that the set is usable for n states (the spread must be positive).</summary>
    /// <exception cref="ModelValidationException">n + κ ≤ 0.</exception>
    public void ValidateFor(int stateDimension)
    {
        var spread = Spread(stateDimension);
        if (!(spread > 0.0) || !double.IsFinite(spread))
        {
            throw new ModelValidationException(
                "sigmaPoints.kappa",
                $"n + kappa must be positive for the points to spread (n = {stateDimension} states, kappa = {Kappa}); use kappa > {-stateDimension}.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Scheme == SigmaPointScheme.Merwe
        ? FormattableString.Invariant($"merwe(alpha={Alpha}, beta={Beta}, kappa={Kappa})")
        : FormattableString.Invariant($"julier(kappa={Kappa})");

    private double Lambda(int stateDimension)
    {
        var n = (double)stateDimension;
        return (Alpha * Alpha * (n + Kappa)) - n;
    }
}
