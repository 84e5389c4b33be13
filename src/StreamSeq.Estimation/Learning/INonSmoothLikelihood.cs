namespace StreamSeq.Estimation.Learning;

/// <summary>
/// Marks an estimator whose log-likelihood is a Monte-Carlo estimate that is piecewise continuous, not smooth, in
/// the model parameters (a particle filter with resampling), even with common random numbers.
/// </summary>
/// <remarks><see cref="MaximumLikelihood"/> fits such models with the derivative-free Nelder–Mead simplex only:
/// finite-difference gradients of a function with jumps are meaningless, so the BFGS polish is skipped.</remarks>
public interface INonSmoothLikelihood
{
}
