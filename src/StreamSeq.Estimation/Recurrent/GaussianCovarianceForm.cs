namespace StreamSeq.Estimation.Recurrent;

/// <summary>How a <see cref="GaussianHead{T}"/> parameterises the predictive covariance.</summary>
public enum GaussianCovarianceForm
{
    /// <summary>Diagonal covariance; the head emits m log-variances s_j and Σ = diag(exp(s_j)).</summary>
    DiagonalLogVariance,

    /// <summary>Full covariance Σ = L Lᵀ; the head emits the m(m+1)/2 entries of the lower-triangular L row by row,
    /// with each diagonal entry passed through exp.</summary>
    CholeskyExp,

    /// <summary>As <see cref="CholeskyExp"/>, with each diagonal entry passed through softplus(x) = log(1 + eˣ).</summary>
    CholeskySoftplus,
}
