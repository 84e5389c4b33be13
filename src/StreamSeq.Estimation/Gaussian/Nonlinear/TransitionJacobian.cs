namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>The Jacobian F = ∂f/∂x of the transition at a state.</summary>
/// <param name="state">The state x at which to linearise, n values.</param>
/// <param name="context">Time gap, step index and control input (the same as for the transition itself).</param>
/// <param name="jacobian">Receives F, n×n row-major: F[i, j] = ∂f_i/∂x_j. The span is cleared before the call.</param>
public delegate void TransitionJacobian(ReadOnlySpan<double> state, TransitionContext context, Span<double> jacobian);
