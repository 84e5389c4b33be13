namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>The prior of the state at the first observation given that observation's control input u_1, for a model
/// whose first state depends on it (a recurrent net's h_1 = cell(h_0, [y_0, u_1])).</summary>
/// <param name="control">u_1 as the first observation carries it: empty when none was given, NaN components not given.</param>
/// <param name="mean">Holds the model's <see cref="NonlinearGaussianModel.InitialMean"/>; receives the prior mean, n values.</param>
/// <param name="covariance">Holds the model's <see cref="NonlinearGaussianModel.InitialCovariance"/>; receives the prior covariance, n×n.</param>
/// <returns>False when the prior is not finite for this control; the filter then keeps the model's own prior.</returns>
/// <remarks>Called once per stream start by the filter's step, so it must not allocate; it may be called from several
/// threads at once and must not keep state between calls.</remarks>
internal delegate bool ControlledPriorFunction(ReadOnlySpan<double> control, Span<double> mean, Span<double> covariance);
