namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>The mean of the state transition, x_t = f(x_{t-1}, Δt, u_t) (the noise is added separately).</summary>
/// <param name="state">x_{t-1}, n values. Do not keep the span.</param>
/// <param name="context">Time gap, step index and control input.</param>
/// <param name="next">Receives f(x_{t-1}), n values. It never aliases <paramref name="state"/>.</param>
/// <remarks>Called many times per step (2n+1 times by the unscented filter, 2n+1 by finite differences), so it must
/// not allocate; it may be called from several threads at once and must not keep state between calls.</remarks>
public delegate void TransitionFunction(ReadOnlySpan<double> state, TransitionContext context, Span<double> next);
