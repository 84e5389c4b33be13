namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>The Jacobian H = ∂h/∂x of the observation function at a state.</summary>
/// <param name="state">The state x at which to linearise, n values.</param>
/// <param name="jacobian">Receives H, m×n row-major: H[i, j] = ∂h_i/∂x_j. The span is cleared before the call.</param>
public delegate void ObservationJacobian(ReadOnlySpan<double> state, Span<double> jacobian);
